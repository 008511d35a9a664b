using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace EvoMerge.Evolution.Config;

/// <summary>
/// Typed reads from one YAML mapping, with errors that name the file, the line, the key path and what was expected.
/// Construction rejects keys outside the declared set, suggesting the nearest valid one.
/// </summary>
internal sealed class YamlFields
{
    readonly string _file;
    readonly string _path;
    readonly Dictionary<string, YamlNode> _values = new();

    public YamlFields(string file, string path, YamlNode node, params string[] keys)
    {
        _file = file;
        _path = path;
        if (node is not YamlMappingNode map)
            throw Error(node, $"{Describe(path)} must be a mapping of keys to values");
        foreach (var (keyNode, value) in map.Children)
        {
            string key = ((YamlScalarNode)keyNode).Value ?? "";
            if (!keys.Contains(key))
                throw Error(keyNode, $"unknown key '{Qualify(key)}'{NearestName.Suggest(key, keys)}; valid keys{(path == "" ? "" : " of " + path)}: {string.Join(", ", keys)}");
            _values[key] = value;
        }
    }

    public bool Has(string key) => _values.ContainsKey(key);

    public YamlNode Node(string key) => _values.TryGetValue(key, out var n) ? n
        : throw new EvoMergeException($"{_file}: missing required key '{Qualify(key)}'");

    public YamlFields Map(string key, params string[] keys) => new(_file, Qualify(key), Node(key), keys);

    /// <summary>Fields of a mapping found elsewhere in the same file (e.g. an item of a list).</summary>
    public YamlFields Child(string path, YamlNode node, params string[] keys) => new(_file, path, node, keys);

    public string String(string key) => Scalar(key, "a string");
    public string? OptionalString(string key) => Has(key) ? String(key) : null;

    public int Int(string key, int min = int.MinValue) =>
        int.TryParse(Scalar(key, "an integer"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min
            ? v : throw Error(Node(key), $"'{Qualify(key)}' must be an integer{(min > int.MinValue ? $" ≥ {min}" : "")}, got '{Scalar(key, "")}'");
    public int? OptionalInt(string key, int min = int.MinValue) => Has(key) ? Int(key, min) : null;

    public double Double(string key) =>
        double.TryParse(Scalar(key, "a number"), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
            ? v : throw Error(Node(key), $"'{Qualify(key)}' must be a number, got '{Scalar(key, "")}'");

    public bool Bool(string key) => Scalar(key, "true or false") switch
    {
        "true" or "True" or "yes" => true,
        "false" or "False" or "no" => false,
        var s => throw Error(Node(key), $"'{Qualify(key)}' must be true or false, got '{s}'"),
    };

    /// <summary>One of <paramref name="allowed"/> (compared exactly), with a nearest-name hint otherwise.</summary>
    public string Choice(string key, params string[] allowed)
    {
        string s = String(key);
        return allowed.Contains(s) ? s
            : throw Error(Node(key), $"'{Qualify(key)}' must be one of {string.Join(", ", allowed)}, got '{s}'{NearestName.Suggest(s, allowed)}");
    }

    public IReadOnlyList<YamlNode> Sequence(string key) => Node(key) is YamlSequenceNode seq ? seq.Children.ToList()
        : throw Error(Node(key), $"'{Qualify(key)}' must be a list");

    public IReadOnlyList<string> Strings(string key) => Sequence(key)
        .Select(n => n is YamlScalarNode { Value: { } v } ? v : throw Error(n, $"'{Qualify(key)}' must be a list of strings"))
        .ToList();

    public IReadOnlyList<double> Doubles(string key) => Sequence(key)
        .Select(n => n is YamlScalarNode { Value: { } v } && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
            ? d : throw Error(n, $"'{Qualify(key)}' must be a list of numbers"))
        .ToList();

    /// <summary>Keys of a nested mapping whose keys are free (e.g. parameter names under ranges).</summary>
    public IReadOnlyList<string> KeysOf(string key) => Node(key) is YamlMappingNode m
        ? m.Children.Keys.Select(k => ((YamlScalarNode)k).Value ?? "").ToList()
        : throw Error(Node(key), $"'{Qualify(key)}' must be a mapping");

    public EvoMergeException Error(YamlNode node, string message) =>
        new($"{_file}: line {node.Start.Line}: {message}");

    public string Qualify(string key) => _path == "" ? key : $"{_path}.{key}";

    string Scalar(string key, string expected) => Node(key) is YamlScalarNode { Value: { } v } ? v
        : throw Error(Node(key), $"'{Qualify(key)}' must be {expected}");

    static string Describe(string path) => path == "" ? "the document" : $"'{path}'";
}
