# Sourced by the GPU scripts: finds the CUDA 13 runtime libraries (cuBLAS, cuRAND, NVRTC,
# cudart) that the CUDA build loads, in the machine's Python site-packages (PyTorch's nvidia
# wheels) or CUDA installation, and puts their folders on LD_LIBRARY_PATH.
roots=()
nv=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]) + "/nvidia")' 2>/dev/null || true)
[ -n "$nv" ] && [ -d "$nv" ] && roots+=("$nv")
for d in /usr/local/cuda*/ /usr/lib/x86_64-linux-gnu; do [ -d "$d" ] && roots+=("$d"); done
dirs=()
for lib in libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libnvrtc.so.13 libcudart.so.13; do
  found=$(find "${roots[@]}" -name "$lib" -print 2>/dev/null | head -1 || true)
  [ -n "$found" ] || found=$(find / -xdev \( -path /proc -o -path /sys \) -prune -o -name "$lib" -print 2>/dev/null | head -1 || true)
  [ -n "$found" ] || { echo "$(basename "$0"): $lib not found on this machine" >&2; exit 1; }
  dirs+=("$(dirname "$found")")
done
export LD_LIBRARY_PATH="$(printf '%s\n' "${dirs[@]}" | sort -u | paste -sd:)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || true
