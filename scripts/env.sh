# Sourced by the scripts that run bitsweep.
#
# glibc hands large blocks out as fresh mmap()s and unmaps them on free, so a
# training step that allocates large activations pays page faults for all of
# them again. These glibc tunables keep freed blocks for reuse; measured on
# the classifier evaluator's training (2 threads): kernel time per epoch
# 37 s -> 1.3 s, wall time per epoch 80 s -> 55 s. (Setting the same
# thresholds with mallopt() from inside the process did not have this effect.)
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-1073741824}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-4294967296}"
#
# OpenMP threads (LibTorch's and OpenBLAS's) wait passively at barriers
# instead of spinning: on a machine where something else takes the cores (a
# build, another job, a test running beside this one) spinning threads keep
# each other from the CPU. Measured on the classifier evaluator's training
# beside a Docker build on both cores: 0.43x the wall time of the default.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
