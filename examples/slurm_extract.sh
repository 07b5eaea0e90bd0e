#!/bin/bash
# Pose extraction of a whole video folder as a SLURM job array: array task K of N runs
# `text2asl extract --shard K/N`, so N nodes split the folder with no shared index.
#
#   sbatch --array=1-16 examples/slurm_extract.sh /data/asl-citizen/videos /data/asl-citizen/poses
#   # then, when the array has finished (any outcome):
#   sbatch --dependency=afterany:<array job id> --wrap \
#       "text2asl extract /data/asl-citizen/videos -o /data/asl-citizen/poses --status 16"
#
# Shards are picked by a hash of each video's path relative to the folder, so every task computes
# its share alone and a rerun picks the same share. All tasks write into one output folder on the
# shared filesystem: each .pose is written atomically under its final name, and each task has its
# own failures.shard-K-of-N.csv. Resubmitting the array redoes only videos whose .pose is still
# missing; to redo one task, give N as a third argument: sbatch --array=7 slurm_extract.sh VIDEOS POSES 16. `--status N` prints done / failed / missing per shard,
# merges the shards' failures into <poses>/failures.csv and exits 0 only when every video is done.
#
# Resources: one MediaPipe Holistic worker per CPU uses about 350 MB; -j follows --cpus-per-task.
#SBATCH --job-name=text2asl-extract
#SBATCH --array=1-8
#SBATCH --cpus-per-task=4
#SBATCH --mem-per-cpu=1G
#SBATCH --time=24:00:00
#SBATCH --output=extract-%A_%a.log
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: sbatch --array=1-N $0 VIDEOS_FOLDER POSES_FOLDER [N]" >&2
    exit 2
fi
videos=$1
poses=$2
: "${SLURM_ARRAY_TASK_ID:?run this script as a job array: sbatch --array=1-N $0 ...}"
# Task K of --array=1-N extracts shard K/N; N is the array's last index unless given.
count=${3:-${SLURM_ARRAY_TASK_MAX:?}}

exec text2asl extract "$videos" -o "$poses" --shard "${SLURM_ARRAY_TASK_ID}/${count}" \
    -j "${SLURM_CPUS_PER_TASK:-1}" -q
