"""Evaluation: SSIM/PSNR (`metrics`), DTW-MJE (`dtw`), recognition (`recognize`), baselines, suites (`protocol`), one pair (`pair`), report.

Submodules are imported on use (scikit-image, matplotlib and dtaidistance load only there).
"""
