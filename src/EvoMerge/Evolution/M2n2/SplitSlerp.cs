using EvoMerge.Merge.Execution;
using EvoMerge.Merge.Recipes;

namespace EvoMerge.Evolution.M2n2;

/// <summary>
/// M2N2's crossover on blends: a slerp of parent x towards parent y with factor w before the split point and 1 − w
/// from it on, tensor by tensor. Each parent is Σₛ cₛθₛ, so over a span where both parents' coefficients (a, b) are
/// constant, ‖x‖² = aᵀGa, ‖y‖² = bᵀGb and x·y = aᵀGb with G the sources' Gram matrix there (<see cref="SourceGeometry"/>),
/// and the child is sx·x + sy·y = (sx·a + sy·b)ᵀθ: again a blend. The angle of a tensor is taken over the whole
/// tensor; as in the reference code, a pair closer than sin ω = 1e-6 (or a zero tensor) is interpolated linearly.
/// </summary>
public static class SplitSlerp
{
    /// <summary>Below this sin ω the reference code interpolates linearly (the great circle is ill-defined).</summary>
    public const double LinearBelowSine = 1e-6;

    /// <param name="split">Flattened position from which 1 − w applies; null: w everywhere (slerp without split point).</param>
    public static BlendRecipe Child(BlendRecipe x, BlendRecipe y, double w, long? split, SourceGeometry geometry)
    {
        int n = geometry.SourceCount;
        if (x.Models.Count != n || y.Models.Count != n) throw new ArgumentException("parents and geometry must be over the same sources");
        var order = geometry.Order;
        var segments = new List<BlendSegment>();
        for (int k = 0; k < order.Tensors.Count; k++)
        {
            var tensor = order.Tensors[k];
            long start = tensor.Offset, end = tensor.Offset + tensor.Count;
            // Spans of the tensor on which both parents' coefficients are constant.
            var cuts = new SortedSet<long> { start, end };
            foreach (var s in x.Segments.Concat(y.Segments)) if (s.Start > start && s.Start < end) cuts.Add(s.Start);
            var spans = cuts.Zip(cuts.Skip(1)).ToList();
            double xx = 0, yy = 0, xy = 0;
            foreach (var (from, to) in spans)
            {
                var g = geometry.Gram(k, from - start, to - start);
                double[] a = x.Segments[x.SegmentAt(from)].Coefficients, b = y.Segments[y.SegmentAt(from)].Coefficients;
                xx += Quadratic(a, g, a);
                yy += Quadratic(b, g, b);
                xy += Quadratic(a, g, b);
            }
            if (split is long p && p > start && p < end) cuts.Add(p);
            foreach (var (from, _) in cuts.Zip(cuts.Skip(1)))
            {
                double t = split is long q && from >= q ? 1 - w : w;
                var (sx, sy) = Coefficients(t, xx, yy, xy);
                double[] a = x.Segments[x.SegmentAt(from)].Coefficients, b = y.Segments[y.SegmentAt(from)].Coefficients;
                var c = new double[n];
                for (int s = 0; s < n; s++) c[s] = sx * a[s] + sy * b[s];
                if (segments.Count == 0 || !segments[^1].Coefficients.AsSpan().SequenceEqual(c)) segments.Add(new BlendSegment(from, c));
            }
        }
        return new BlendRecipe(x.Models, segments);
    }

    /// <summary>Slerp's weights of x and y for factor t, from ‖x‖², ‖y‖² and x·y (t = 0 gives x).</summary>
    public static (double X, double Y) Coefficients(double t, double xx, double yy, double xy)
    {
        double nx = Math.Sqrt(xx), ny = Math.Sqrt(yy);
        if (nx > 0 && ny > 0)
        {
            double omega = Math.Acos(Math.Clamp(xy / (nx * ny), -1, 1)), sin = Math.Sin(omega);
            if (sin > LinearBelowSine) return (Math.Sin((1 - t) * omega) / sin, Math.Sin(t * omega) / sin);
        }
        return (1 - t, t);
    }

    static double Quadratic(double[] a, double[] g, double[] b)
    {
        int n = a.Length;
        double sum = 0;
        for (int s = 0; s < n; s++)
        {
            if (a[s] == 0) continue;
            double row = 0;
            for (int t = 0; t < n; t++) row += g[s * n + t] * b[t];
            sum += a[s] * row;
        }
        return sum;
    }
}
