namespace EvoMerge.IO.Gguf;

/// <summary>
/// The key/value section of a GGUF file, in insertion order. Only the value types llama.cpp reads for
/// Llama-family models are offered; each adder fixes the GGUF type so that the writer needs no guessing.
/// </summary>
public sealed class GgufMetadata
{
    public sealed record Entry(string Key, GgufValueType Type, object Value);

    readonly List<Entry> entries = [];

    public IReadOnlyList<Entry> Entries => entries;

    public void Add(string key, string value) => Put(new(key, GgufValueType.String, value));
    public void Add(string key, uint value) => Put(new(key, GgufValueType.UInt32, value));
    public void Add(string key, int value) => Put(new(key, GgufValueType.Int32, value));
    public void Add(string key, float value) => Put(new(key, GgufValueType.Float32, value));
    public void Add(string key, bool value) => Put(new(key, GgufValueType.Bool, value));
    public void Add(string key, IReadOnlyList<string> values) => Put(new(key, GgufValueType.Array, values));
    public void Add(string key, IReadOnlyList<float> values) => Put(new(key, GgufValueType.Array, values));
    public void Add(string key, IReadOnlyList<int> values) => Put(new(key, GgufValueType.Array, values));

    public bool Contains(string key) => entries.Exists(e => e.Key == key);

    void Put(Entry entry)
    {
        if (Contains(entry.Key)) throw new ArgumentException($"GGUF metadata key '{entry.Key}' added twice");
        entries.Add(entry);
    }
}
