using System.Numerics.Tensors;

namespace EvoMerge.Merge.Kernels;

/// <summary>
/// Magnitude ranking without sorting: quickselect finds the boundary values in O(n), then one pass keeps the
/// entries whose rank falls in a window. Ranks are by |x| ascending, ties broken by position, so exactly
/// <c>hi - lo</c> entries survive even when magnitudes repeat.
/// </summary>
public static class RankSelection
{
    /// <summary>Zeroes every entry of <paramref name="values"/> whose magnitude rank is outside [lo, hi).</summary>
    public static void KeepRankWindow(Span<float> values, int lo, int hi, Span<float> scratch)
    {
        int n = values.Length;
        lo = Math.Clamp(lo, 0, n);
        hi = Math.Clamp(hi, lo, n);
        if (lo == 0 && hi == n) return;
        if (lo == hi) { values.Clear(); return; }

        var abs = scratch[..n];
        TensorPrimitives.Abs(values, abs);
        float vLo = Select(abs, lo);
        float vHi = Select(abs, hi - 1);
        int lessLo = 0, lessHi = 0;
        foreach (float v in values)
        {
            float a = Math.Abs(v);
            if (a < vLo) lessLo++;
            if (a < vHi) lessHi++;
        }

        int seenLo = 0, seenHi = 0;
        for (int i = 0; i < n; i++)
        {
            float a = Math.Abs(values[i]);
            int rank;
            if (a == vLo) rank = lessLo + seenLo++;
            else if (a == vHi) rank = lessHi + seenHi++;
            else if (a > vLo && a < vHi) continue;
            else { values[i] = 0; continue; }
            if (rank < lo || rank >= hi) values[i] = 0;
        }
    }

    /// <summary>The k-th smallest value (0-based) of <paramref name="values"/>, which is reordered in place.</summary>
    public static float Select(Span<float> values, int k)
    {
        int left = 0, right = values.Length - 1;
        while (right > left)
        {
            // Median of three as pivot keeps sorted and reversed inputs linear.
            int mid = left + (right - left) / 2;
            if (values[mid] < values[left]) Swap(values, mid, left);
            if (values[right] < values[left]) Swap(values, right, left);
            if (values[right] < values[mid]) Swap(values, right, mid);
            float pivot = values[mid];
            int i = left, j = right;
            while (i <= j)
            {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i <= j) { Swap(values, i, j); i++; j--; }
            }
            if (k <= j) right = j;
            else if (k >= i) left = i;
            else return values[k];
        }
        return values[k];
    }

    static void Swap(Span<float> v, int a, int b) => (v[a], v[b]) = (v[b], v[a]);
}
