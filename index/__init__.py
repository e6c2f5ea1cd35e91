"""Kabar's library core: article → passages → vectors → index → hits → answer."""

import os

# numpy's OpenBLAS keeps its worker threads spinning after each call, and on 2 cores they take the core that
# the answer checker's second ONNX Runtime thread needs: two question–sentence pairs took a median 55 ms
# instead of 28 at 10k passages (bench/results/question_path.md). Kabar's own numpy work is on small
# vectors, so one BLAS thread; set before numpy loads, and only when the user has not chosen.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
