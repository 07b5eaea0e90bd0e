"""Evaluation: SSIM/PSNR (`metrics`), DTW-MJE (`dtw`), cross-signer recognition (`recognize`), baselines, held-out protocol, report.

Submodules are imported on use (scikit-image, matplotlib and dtaidistance load only there).
"""
