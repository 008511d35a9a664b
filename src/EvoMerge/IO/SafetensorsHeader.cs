using System.Text.Json;

namespace EvoMerge.IO;

/// <summary>
/// Parses and validates the JSON header of a safetensors file. The rules are the format's own (as its reference
/// implementation enforces them): every tensor has a known dtype, a shape of non-negative sizes and
/// <c>[begin, end]</c> offsets whose length is shape × element size; sorted by offset, the tensors tile the data
/// section exactly, with no gap, overlap or trailing bytes. Every violation is an <see cref="EvoMergeException"/>
/// that names the file, the tensor and what was expected.
/// </summary>
public static class SafetensorsHeader
{
    /// <summary>Headers larger than this are refused before anything is allocated (the reference reader's cap).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    /// <summary>Tensors in data order, and the string→string <c>__metadata__</c> (empty when absent).</summary>
    public static (TensorInfo[] Tensors, Dictionary<string, string> Metadata) Parse(ReadOnlySpan<byte> json, long dataLength, string file)
    {
        JsonDocument doc;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
            doc = JsonDocument.ParseValue(ref reader);
            if (reader.Read()) throw new JsonException("unexpected content after the header's JSON object");
        }
        catch (JsonException e)
        {
            throw new EvoMergeException($"{file}: the header is not valid JSON ({e.Message})");
        }
        using (doc)
        {
            try { return Read(doc, dataLength, file); }
            catch (InvalidOperationException e)
            {
                // A string that is not valid UTF-8, or an escaped lone surrogate (\ud800): the format's reference
                // reader refuses both, and a name that cannot be decoded could not be matched anyway.
                throw new EvoMergeException($"{file}: the header holds a string that is not valid Unicode ({e.Message})");
            }
        }
    }

    static (TensorInfo[] Tensors, Dictionary<string, string> Metadata) Read(JsonDocument doc, long dataLength, string file)
    {
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new EvoMergeException($"{file}: the header must be a JSON object, found {doc.RootElement.ValueKind}");
        var metadata = new Dictionary<string, string>();
        var tensors = new List<TensorInfo>();
        var names = new HashSet<string>();
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            if (!names.Add(property.Name))
                throw new EvoMergeException($"{file}: tensor '{property.Name}' appears twice in the header");
            if (property.Name == MetadataKey) ReadMetadata(property.Value, metadata, file);
            else if (tensors.Count == SanityBounds.MaxTensors)
                throw new EvoMergeException($"{file}: more than {SanityBounds.MaxTensors} tensors in one header");
            else tensors.Add(ReadTensor(property.Name, property.Value, file));
        }
        tensors.Sort((a, b) => a.DataOffset != b.DataOffset
            ? a.DataOffset.CompareTo(b.DataOffset)
            : a.ByteLength.CompareTo(b.ByteLength)); // empty tensors before the one that shares their offset
        CheckTiling(tensors, dataLength, file);
        return (tensors.ToArray(), metadata);
    }

    static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string file)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new EvoMergeException($"{file}: '{MetadataKey}' must be an object of strings, found {value.ValueKind}");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new EvoMergeException($"{file}: '{MetadataKey}.{entry.Name}' must be a string, found {entry.Value.ValueKind}");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw new EvoMergeException($"{file}: '{MetadataKey}.{entry.Name}' appears twice");
        }
    }

    static TensorInfo ReadTensor(string name, JsonElement value, string file)
    {
        string where = $"{file}: tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object)
            throw new EvoMergeException($"{where}: expected an object with dtype, shape and data_offsets, found {value.ValueKind}");
        // TryGetProperty takes the last of duplicates; the reference reader refuses them, so two readers never disagree.
        var fields = new HashSet<string>();
        foreach (var field in value.EnumerateObject())
            if (!fields.Add(field.Name))
                throw new EvoMergeException($"{where}: field '{field.Name}' appears twice");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new EvoMergeException($"{where}: 'dtype' must be a string");
        string dtypeName = dtypeElement.GetString()!;
        if (DTypes.PackedNames.Contains(dtypeName))
            throw new EvoMergeException($"{where}: dtype '{dtypeName}' packs several values per byte, which EvoMerge does not read");
        if (!DTypes.TryParse(dtypeName, out var dtype))
            throw new EvoMergeException($"{where}: unknown dtype '{dtypeName}' (expected one of {string.Join(", ", Enum.GetNames<DType>())})");
        long[] shape = ReadIntegers(value, "shape", where, expectedCount: null);
        long[] offsets = ReadIntegers(value, "data_offsets", where, expectedCount: 2);
        if (offsets[1] < offsets[0])
            throw new EvoMergeException($"{where}: data_offsets [{offsets[0]}, {offsets[1]}] end before they begin");
        long expected;
        try { expected = checked(TensorInfo.ElementCountOf(shape) * dtype.ElementSize()); }
        catch (OverflowException) { throw new EvoMergeException($"{where}: shape [{string.Join(", ", shape)}] is too large"); }
        long length = offsets[1] - offsets[0];
        if (length != expected)
            throw new EvoMergeException($"{where}: data_offsets span {length} bytes but shape [{string.Join(", ", shape)}] of {dtypeName} needs {expected}");
        return new TensorInfo(name, dtype, shape, offsets[0], length);
    }

    static long[] ReadIntegers(JsonElement tensor, string field, string where, int? expectedCount)
    {
        if (!tensor.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new EvoMergeException($"{where}: '{field}' must be an array of non-negative integers");
        int count = array.GetArrayLength();
        if (expectedCount is int n && count != n)
            throw new EvoMergeException($"{where}: '{field}' must have {n} entries, found {count}");
        var values = new long[count];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0)
                throw new EvoMergeException($"{where}: '{field}' must be an array of non-negative integers, found {item.GetRawText()}");
            values[i++] = v;
        }
        return values;
    }

    static void CheckTiling(List<TensorInfo> sorted, long dataLength, string file)
    {
        long expectedBegin = 0;
        string previous = "the start of the data section";
        foreach (var t in sorted)
        {
            if (t.DataOffset < expectedBegin)
                throw new EvoMergeException($"{file}: tensor '{t.Name}' at byte {t.DataOffset} overlaps {previous} (which ends at byte {expectedBegin})");
            if (t.DataOffset > expectedBegin)
                throw new EvoMergeException($"{file}: tensor '{t.Name}' begins at byte {t.DataOffset} but {previous} ends at byte {expectedBegin}: the data has a gap");
            expectedBegin = t.DataOffset + t.ByteLength;
            previous = $"tensor '{t.Name}'";
            if (expectedBegin > dataLength)
                throw new EvoMergeException($"{file}: tensor '{t.Name}' ends at byte {expectedBegin} of the data section, beyond its {dataLength} bytes (file truncated?)");
        }
        if (expectedBegin != dataLength)
            throw new EvoMergeException($"{file}: the tensors cover {expectedBegin} bytes of data but the data section holds {dataLength}");
    }
}
