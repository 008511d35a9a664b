using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EvoMerge.Lora.Linalg;

/// <summary>
/// <c>C += op(A) · B</c> in float32 for the shapes of LoRA extraction: op(A) is a large weight difference (or its
/// transpose, read through strides so that no transposed copy is made) and B a thin matrix of a few dozen columns.
/// Blocked so that a slab of B stays in L2 while 4 rows of A stream from L1, with a 4 × 2-vector register tile of FMAs;
/// rows are split across threads.
/// </summary>
static class MatrixProduct
{
    const int RowTile = 4;
    const int InnerBlock = 256;
    const int RowsPerTask = 64;

    /// <summary>
    /// <paramref name="c"/> (rows × cols, row-major) += op(A) · <paramref name="b"/> (inner × cols, row-major), where
    /// op(A)[r, l] = <paramref name="a"/>[r · aRowStride + l · aInnerStride].
    /// </summary>
    public static void MultiplyAdd(float[] a, int rows, int inner, long aRowStride, long aInnerStride, float[] b, int cols, float[] c, int threads)
    {
        if ((long)rows * cols > c.Length || (long)inner * cols > b.Length) throw new ArgumentException("matrix sizes do not match the arrays");
        int tasks = (rows + RowsPerTask - 1) / RowsPerTask;
        if (tasks <= 1 || threads <= 1)
        {
            for (int t = 0; t < tasks; t++) RowRange(a, t * RowsPerTask, Math.Min(rows, (t + 1) * RowsPerTask), inner, aRowStride, aInnerStride, b, cols, c);
            return;
        }
        Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = threads },
            t => RowRange(a, t * RowsPerTask, Math.Min(rows, (t + 1) * RowsPerTask), inner, aRowStride, aInnerStride, b, cols, c));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void RowRange(float[] a, int r0, int r1, int inner, long rs, long ls, float[] b, int cols, float[] c)
    {
        int width = Vector<float>.Count * 2;
        int vectorCols = cols / width * width;
        for (int l0 = 0; l0 < inner; l0 += InnerBlock)
        {
            int l1 = Math.Min(inner, l0 + InnerBlock);
            int r = r0;
            for (; r + RowTile <= r1; r += RowTile)
            {
                for (int c0 = 0; c0 < vectorCols; c0 += width) Tile(a, r, l0, l1, rs, ls, b, cols, c, c0);
                for (int rr = r; rr < r + RowTile; rr++) ScalarColumns(a, rr, l0, l1, rs, ls, b, cols, c, vectorCols);
            }
            for (; r < r1; r++) ScalarColumns(a, r, l0, l1, rs, ls, b, cols, c, 0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Tile(float[] a, int r, int l0, int l1, long rs, long ls, float[] b, int cols, float[] c, int c0)
    {
        ref float aRef = ref MemoryMarshal.GetArrayDataReference(a);
        ref float bRef = ref MemoryMarshal.GetArrayDataReference(b);
        ref float cRef = ref MemoryMarshal.GetArrayDataReference(c);
        int n = Vector<float>.Count;
        nuint c0n = (nuint)((long)r * cols + c0), c1n = c0n + (nuint)cols, c2n = c1n + (nuint)cols, c3n = c2n + (nuint)cols;
        var x00 = Vector.LoadUnsafe(ref cRef, c0n); var x01 = Vector.LoadUnsafe(ref cRef, c0n + (nuint)n);
        var x10 = Vector.LoadUnsafe(ref cRef, c1n); var x11 = Vector.LoadUnsafe(ref cRef, c1n + (nuint)n);
        var x20 = Vector.LoadUnsafe(ref cRef, c2n); var x21 = Vector.LoadUnsafe(ref cRef, c2n + (nuint)n);
        var x30 = Vector.LoadUnsafe(ref cRef, c3n); var x31 = Vector.LoadUnsafe(ref cRef, c3n + (nuint)n);
        long a0 = r * rs, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs;
        for (int l = l0; l < l1; l++)
        {
            nuint bi = (nuint)((long)l * cols + c0);
            var b0 = Vector.LoadUnsafe(ref bRef, bi);
            var b1 = Vector.LoadUnsafe(ref bRef, bi + (nuint)n);
            long off = l * ls;
            var v0 = new Vector<float>(Unsafe.Add(ref aRef, (nint)(a0 + off)));
            var v1 = new Vector<float>(Unsafe.Add(ref aRef, (nint)(a1 + off)));
            var v2 = new Vector<float>(Unsafe.Add(ref aRef, (nint)(a2 + off)));
            var v3 = new Vector<float>(Unsafe.Add(ref aRef, (nint)(a3 + off)));
            x00 = Vector.FusedMultiplyAdd(v0, b0, x00); x01 = Vector.FusedMultiplyAdd(v0, b1, x01);
            x10 = Vector.FusedMultiplyAdd(v1, b0, x10); x11 = Vector.FusedMultiplyAdd(v1, b1, x11);
            x20 = Vector.FusedMultiplyAdd(v2, b0, x20); x21 = Vector.FusedMultiplyAdd(v2, b1, x21);
            x30 = Vector.FusedMultiplyAdd(v3, b0, x30); x31 = Vector.FusedMultiplyAdd(v3, b1, x31);
        }
        x00.StoreUnsafe(ref cRef, c0n); x01.StoreUnsafe(ref cRef, c0n + (nuint)n);
        x10.StoreUnsafe(ref cRef, c1n); x11.StoreUnsafe(ref cRef, c1n + (nuint)n);
        x20.StoreUnsafe(ref cRef, c2n); x21.StoreUnsafe(ref cRef, c2n + (nuint)n);
        x30.StoreUnsafe(ref cRef, c3n); x31.StoreUnsafe(ref cRef, c3n + (nuint)n);
    }

    /// <summary>Columns from <paramref name="firstCol"/> on, for the tails the vector tile does not cover.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void ScalarColumns(float[] a, int r, int l0, int l1, long rs, long ls, float[] b, int cols, float[] c, int firstCol)
    {
        for (int col = firstCol; col < cols; col++)
        {
            float sum = 0;
            for (int l = l0; l < l1; l++) sum = MathF.FusedMultiplyAdd(a[r * rs + l * ls], b[(long)l * cols + col], sum);
            c[(long)r * cols + col] += sum;
        }
    }
}
