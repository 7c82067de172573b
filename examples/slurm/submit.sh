#!/usr/bin/env bash
# Scores NAS-Bench-201 architectures with `tenas correlate` as a SLURM job array of SHARDS shards,
# then merges them in a job that starts only when every shard has succeeded.
#
# Usage: submit.sh RUN_DIR SHARDS SCORING_OPTIONS...
#   e.g. examples/slurm/submit.sh runs/nb201-all 64 --space nb201 --all --seed 0 --dataset cifar100
#
# RUN_DIR must be on a file system that the compute nodes share. It receives
#   shard-K.csv          the rows of array task K (appended as they finish; a requeued or rerun
#                        task resumes its file and skips the rows already there)
#   logs/shard-K.log     the output of every run of task K (appended, so a requeue keeps the first)
#   merged.csv(.svg)     all rows and the scatter plots, written by the merge job
#   report.txt           the Kendall tau / Spearman rho table, written by the merge job
#   logs/merge.log       the merge job's output
#
# Environment:
#   TENAS   the command that runs tenas on the compute nodes (default: tenas, from PATH), e.g.
#           TENAS="npx --no-install tenas" in a project that depends on tenas-web
#   SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_TIMELIMIT, ...: sbatch's own input variables apply to
#           both jobs (each shard needs one core and about 300 MB)
set -euo pipefail

usage() {
  echo "usage: submit.sh RUN_DIR SHARDS SCORING_OPTIONS...   (e.g. submit.sh runs/nb201-all 64 --space nb201 --all --seed 0)" >&2
  exit 2
}
[[ $# -ge 3 ]] || usage
run_dir=$1
shards=$2
shift 2
[[ $shards =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: SHARDS must be a positive integer, got '$shards'" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$run_dir/logs"
run_dir=$(cd "$run_dir" && pwd)

# sbatch --parsable prints "jobid" or "jobid;cluster".
array=$(sbatch --parsable --array="1-${shards}" --output="${run_dir}/logs/shard-%a.log" \
  "${here}/correlate-shard.sbatch" "$run_dir" "$shards" "$@")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:${array}" --kill-on-invalid-dep=yes --output="${run_dir}/logs/merge.log" \
  "${here}/correlate-merge.sbatch" "$run_dir")
merge=${merge%%;*}

echo "array job ${array} (${shards} shards), merge job ${merge}"
echo "progress: tenas correlate --status ${run_dir} --shards ${shards} and the --sample N or --all of the run"
