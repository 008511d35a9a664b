using System.Numerics.Tensors;
using EvoMerge.IO;

namespace EvoMerge.Lora.Folding;

/// <summary>
/// One LoRA's change to one tensor, folded on read: W + strength·scale·(up·down) for a factored module (reshaped to the
/// weight: 2-D linear, 1×1 and k×k convolutions alike, since down's trailing dimensions are the weight's), or
/// W + strength·(R − W) for a tensor the adapter stores whole (R replaces W at strength 1). Factors are read from the
/// LoRA's file once per tensor and held only until its last range has been folded, so a tensor read in many ranges
/// does not re-read them each time and nothing is held between tensors; the product costs rows·rank·columns
/// multiply-adds. A factored change may cover one row block of the tensor only (a q, k or v LoRA on a fused projection).
/// </summary>
public sealed class LoraPatch
{
    readonly LoraFile _file;
    readonly LoraFactors? _factors;
    readonly LoraWholeTensor? _whole;

    /// <summary>The target tensor's name in the model.</summary>
    public string Tensor { get; }

    /// <summary>The LoRA's own name for the module (or the whole tensor's key).</summary>
    public string Key => _factors?.Key ?? _whole!.Key;

    public double Strength { get; }

    /// <summary>Rows and columns of the target viewed as a matrix (first dimension × the rest).</summary>
    readonly long _rows, _columns;

    /// <summary>The rows the change covers: all, or one row block of a fused tensor (OpenCLIP's q/k/v in_proj).</summary>
    readonly long _firstRow, _partRows;

    /// <summary>The factors while the tensor is being read; dropped when its last range is folded.</summary>
    (float[] Left, float[] Right)? _held;
    readonly Lock _heldLock = new();

    internal LoraPatch(LoraFile file, LoraFactors factors, LoraTarget target, long[] shape, double strength)
        : this(file, target.Tensor, shape, strength)
    {
        _factors = factors;
        _partRows = _rows / target.Parts;
        _firstRow = target.Part * _partRows;
    }

    internal LoraPatch(LoraFile file, LoraWholeTensor whole, string tensor, long[] shape, double strength)
        : this(file, tensor, shape, strength) => _whole = whole;

    LoraPatch(LoraFile file, string tensor, long[] shape, double strength)
    {
        _file = file;
        Tensor = tensor;
        Strength = strength;
        _rows = shape.Length == 0 ? 1 : shape[0];
        _columns = TensorInfo.ElementCountOf(shape) / Math.Max(1, _rows);
        _partRows = _rows;
    }

    /// <summary>Folds the change into elements [<paramref name="offset"/>, + values.Length) of the tensor, in place.</summary>
    public void Apply(long offset, Span<float> values)
    {
        if (_whole != null) { ApplyWhole(offset, values); return; }
        var f = _factors!;
        int rank = f.Rank;
        // left [part rows × rank], right [rank × columns]: rows [first, first + part rows) of W (+)= scale · left · right.
        long partEnd = (_firstRow + _partRows) * _columns;
        long start = Math.Max(offset, _firstRow * _columns), end = Math.Min(offset + values.Length, partEnd);
        if (start >= end) return;
        var (left, right) = HeldFactors(f, lastRange: offset + values.Length >= partEnd);
        float scale = (float)(Strength * f.Scale);
        for (long row = start / _columns; row * _columns < end; row++)
        {
            long c0 = Math.Max(0, start - row * _columns), c1 = Math.Min(_columns, end - row * _columns);
            var destination = values.Slice((int)(row * _columns + c0 - offset), (int)(c1 - c0));
            long leftRow = row - _firstRow;
            for (int p = 0; p < rank; p++)
            {
                float coefficient = scale * left[leftRow * rank + p];
                if (coefficient != 0)
                    TensorPrimitives.MultiplyAdd(right.AsSpan((int)(p * _columns + c0), (int)(c1 - c0)), coefficient, destination, destination);
            }
        }
    }

    (float[] Left, float[] Right) HeldFactors(LoraFactors f, bool lastRange)
    {
        lock (_heldLock)
        {
            var factors = _held ?? Factors(f);
            _held = lastRange ? null : factors;
            return factors;
        }
    }

    (float[] Left, float[] Right) Factors(LoraFactors f)
    {
        var down = Read(f.Down);
        var up = Read(f.Up);
        if (!f.Transposed) return (up, down);          // up [rows, rank], down [rank, columns]
        // The weight is (up·down)ᵀ: left = downᵀ [rows = down's columns, rank], right = upᵀ [rank, columns = up's rows].
        int rank = f.Rank;
        var left = new float[down.Length];
        var right = new float[up.Length];
        long downColumns = down.Length / rank, upRows = up.Length / rank;
        for (int p = 0; p < rank; p++)
        {
            for (long i = 0; i < downColumns; i++) left[i * rank + p] = down[p * downColumns + i];
            for (long o = 0; o < upRows; o++) right[p * upRows + o] = up[o * rank + p];
        }
        return (left, right);
    }

    void ApplyWhole(long offset, Span<float> values)
    {
        var replacement = new float[values.Length];
        new Merge.Execution.SafetensorsWeights(_file.Weights, _file.Path).ReadFloat32(_whole!.Tensor.Name, offset, replacement);
        CheckFinite(replacement, _whole.Tensor.Name);
        float s = (float)Strength;
        for (int i = 0; i < values.Length; i++) values[i] += s * (replacement[i] - values[i]);
    }

    float[] Read(TensorInfo tensor)
    {
        var values = new float[tensor.ElementCount];
        _file.Weights.ReadFloat32(tensor.Name, values);
        CheckFinite(values, tensor.Name);
        return values;
    }

    void CheckFinite(float[] values, string name)
    {
        if (!float.IsFinite(TensorPrimitives.Sum(values)) && values.Any(v => !float.IsFinite(v)))
            throw new EvoMergeException($"{_file.WeightsPath}: tensor '{name}' holds NaN or infinity; it cannot be folded");
    }
}
