namespace EvoMerge.Merge.Methods;

/// <summary>
/// Everything a kernel sees for one tensor: the inputs as float32 spans, the parameters resolved for this tensor
/// (read through the method's declared handles), the compatibility mode, the tensor's random key and scratch
/// buffers. One context per worker thread is reused across tensors, so kernels allocate nothing per call.
/// </summary>
public sealed class TensorMergeContext
{
    float[]?[] _scratch = new float[]?[8];
    float[] _base = [];
    int _baseOffset;
    int[] _modelOffsets = [];
    float[][] _models = [];
    double[] _globals = [];
    double[][] _modelParameters = [];

    public string Name { get; private set; } = "";

    public long[] Shape { get; private set; } = [];

    public int Length { get; private set; }

    public bool HasBase { get; private set; }

    public int ModelCount { get; private set; }

    public MergeCompat Compat { get; private set; }

    /// <summary>Key of this tensor's random stream: derived from the run's seed and the output tensor's name.</summary>
    public ulong RandomKey { get; private set; }

    /// <summary>
    /// Index of this span's first element within the whole tensor: non-zero when the executor streams a large tensor
    /// in row blocks (only for methods that allow it), so random streams stay tied to the element, not the block.
    /// </summary>
    public long ElementOffset { get; private set; }

    /// <summary>Rows for row-wise options: the first dimension of a 2-D+ tensor, 1 for vectors and scalars.</summary>
    public int Rows => Shape.Length >= 2 ? (int)Shape[0] : 1;

    public int Columns => Rows == 0 ? 0 : Length / Rows;

    public ReadOnlySpan<float> Base => HasBase ? _base.AsSpan(_baseOffset, Length) : throw new InvalidOperationException("no base model for " + Name);

    public ReadOnlySpan<float> Model(int i) => _models[i].AsSpan(_modelOffsets[i], Length);

    /// <summary>The whole tensor's sums the method asked for (<see cref="MergeMethod.StatisticsCount"/>).</summary>
    public ReadOnlySpan<double> Statistics => _statistics;

    /// <summary>A global number's value for this tensor.</summary>
    public double this[GlobalNumber parameter] => _globals[parameter.Index];

    /// <summary>A global flag's value for this tensor.</summary>
    public bool this[GlobalFlag parameter] => _globals[parameter.Index] != 0;

    /// <summary>Model <paramref name="model"/>'s value of a per-model number for this tensor.</summary>
    public double this[ModelNumber parameter, int model] => _modelParameters[model][parameter.Index];

    /// <summary>A reusable buffer of at least <paramref name="length"/> floats; slots are independent of each other.</summary>
    public Span<float> Scratch(int slot, int length)
    {
        if (slot >= _scratch.Length) Array.Resize(ref _scratch, slot + 1);
        var buffer = _scratch[slot];
        if (buffer == null || buffer.Length < length) _scratch[slot] = buffer = new float[Math.Max(length, 16)];
        return buffer.AsSpan(0, length);
    }

    // Inputs are views: either a private buffer the executor fills (file-backed sources) or a caller's resident
    // array (cached float32 weights), which must never be written to.
    float[] _ownedBase = [];
    float[]?[] _ownedModels = [];

    /// <summary>A private buffer for the base, filled by the caller and then used as the base input.</summary>
    internal float[] FillBase(int length)
    {
        if (_ownedBase.Length < length) _ownedBase = new float[length];
        _baseOffset = 0;
        return _base = _ownedBase;
    }

    /// <summary>A private buffer for model <paramref name="i"/>, filled by the caller and then used as its input.</summary>
    internal float[] FillModel(int i, int length)
    {
        EnsureModelSlots(i + 1);
        var b = _ownedModels[i];
        if (b == null || b.Length < length) _ownedModels[i] = b = new float[length];
        _modelOffsets[i] = 0;
        return _models[i] = b;
    }

    /// <summary>Uses a resident array (from element <paramref name="offset"/>) as model <paramref name="i"/>'s input without copying.</summary>
    internal void UseModelArray(int i, float[] values, int offset)
    {
        EnsureModelSlots(i + 1);
        _models[i] = values;
        _modelOffsets[i] = offset;
    }

    internal void UseBaseArray(float[] values, int offset)
    {
        _base = values;
        _baseOffset = offset;
    }

    void EnsureModelSlots(int count)
    {
        if (_models.Length >= count) return;
        Array.Resize(ref _models, count);
        Array.Resize(ref _ownedModels, count);
        Array.Resize(ref _modelOffsets, count);
    }

    internal void Begin(string name, long[] shape, int length, bool hasBase, int modelCount, MergeCompat compat, ulong randomKey, long elementOffset = 0)
    {
        ElementOffset = elementOffset;
        Name = name;
        Shape = shape;
        Length = length;
        HasBase = hasBase;
        ModelCount = modelCount;
        Compat = compat;
        RandomKey = randomKey;
    }

    float[] _output = [];

    /// <summary>The buffer the kernel writes this tensor's result into.</summary>
    internal Span<float> Output(int length)
    {
        if (_output.Length < length) _output = new float[length];
        return _output.AsSpan(0, length);
    }

    double[] _statistics = [];

    /// <summary>Zeroed totals for <see cref="MergeMethod.Accumulate"/>, then read by the kernel as <see cref="Statistics"/>.</summary>
    internal double[] StatisticsBuffer(int count)
    {
        if (_statistics.Length != count) _statistics = new double[count];
        else Array.Clear(_statistics);
        return _statistics;
    }

    internal double[] GlobalsBuffer(int count) => _globals.Length == count ? _globals : _globals = new double[count];

    internal double[] ModelParametersBuffer(int model, int count)
    {
        if (_modelParameters.Length <= model) Array.Resize(ref _modelParameters, model + 1);
        var p = _modelParameters[model];
        return p != null && p.Length == count ? p : _modelParameters[model] = new double[count];
    }
}
