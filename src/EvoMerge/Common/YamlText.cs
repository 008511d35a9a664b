using EvoMerge.IO;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace EvoMerge;

/// <summary>
/// The one YAML reader of EvoMerge (recipes, evolve.yml): a tree whose nodes keep their line and column, built only
/// after a streaming pass has bounded it. That pass refuses, with the file, line and column:
/// nesting deeper than <see cref="MaxDepth"/> (the tree and everything that walks it recurse);
/// an alias inside the node it names (<c>- &amp;e {model: *e}</c>: a cycle);
/// more than <see cref="MaxNodes"/> nodes once aliases are expanded (a "billion laughs" fits in a few lines);
/// field names that are not plain text; aliases to undefined anchors.
/// </summary>
public static class YamlText
{
    public const int MaxDepth = 64;
    public const long MaxNodes = 100_000;

    /// <summary>Reads <paramref name="path"/> (a regular file, at most <see cref="InputFile.SmallFileBytes"/>) as text.</summary>
    public static string ReadFile(string path, string what) => InputFile.ReadAllText(path, InputFile.SmallFileBytes, what);

    /// <summary>The root node of every document in <paramref name="text"/>, in order (none for an empty text).</summary>
    public static IReadOnlyList<YamlNode> ParseDocuments(string text, string file)
    {
        Bound(text, file);
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException e) { throw Invalid(file, e); }
        catch (Exception e) when (IsParserFault(e)) { throw Invalid(file, e); }
        return stream.Documents.Select(d => d.RootNode).ToList();
    }

    /// <summary>
    /// The root node of a one-document text, or null when it is empty. A second document (<c>---</c>) is an error
    /// naming its line: <paramref name="secondDocument"/> says what the format makes of it.
    /// </summary>
    public static YamlNode? ParseSingle(string text, string file, string secondDocument)
    {
        var documents = ParseDocuments(text, file);
        if (documents.Count > 1) throw new EvoMergeException($"{Mark(file, documents[1])}: a second YAML document; {secondDocument}");
        return documents.Count == 0 ? null : documents[0];
    }

    /// <summary>"file:line:column" of a node, the form every YAML error message starts with.</summary>
    public static string Mark(string file, YamlNode node) => $"{file}:{node.Start.Line}:{node.Start.Column}";

    static EvoMergeException Invalid(string file, YamlException e) =>
        new($"{file}:{e.Start.Line}:{e.Start.Column}: invalid YAML: {e.InnerException?.Message ?? e.Message}", e);

    /// <summary>One pass over the event stream: depth, cycles, expanded size and key types, before any tree exists.</summary>
    static void Bound(string text, string file)
    {
        var parser = new Parser(new StringReader(text));
        var open = new Stack<Frame>();
        var anchors = new Dictionary<string, long>(); // anchor -> expanded node count; Open while its node is being read
        long total = 0;
        try
        {
            while (parser.MoveNext())
            {
                var e = parser.Current!;
                string where = $"{file}:{e.Start.Line}:{e.Start.Column}";
                switch (e)
                {
                    case DocumentStart:
                        anchors.Clear(); // anchors are per document
                        break;
                    case NodeEvent node when node is MappingStart or SequenceStart:
                        CheckKey(open, node, where);
                        if (open.Count >= MaxDepth)
                            throw new EvoMergeException($"{where}: nesting deeper than {MaxDepth} levels");
                        if (!node.Anchor.IsEmpty) anchors[node.Anchor.Value] = Open;
                        open.Push(new Frame(node.Anchor.IsEmpty ? null : node.Anchor.Value, node is MappingStart));
                        break;
                    case MappingEnd or SequenceEnd:
                        var done = open.Pop();
                        if (done.Anchor != null) anchors[done.Anchor] = done.Size;
                        Add(open, done.Size, ref total, where);
                        break;
                    case Scalar scalar:
                        CheckKey(open, scalar, where);
                        if (!scalar.Anchor.IsEmpty) anchors[scalar.Anchor.Value] = 1;
                        Add(open, 1, ref total, where);
                        break;
                    case AnchorAlias alias:
                        CheckKey(open, alias, where);
                        if (!anchors.TryGetValue(alias.Value.Value, out long size))
                            throw new EvoMergeException($"{where}: alias *{alias.Value.Value} names no anchor defined before it");
                        if (size == Open)
                            throw new EvoMergeException($"{where}: alias *{alias.Value.Value} is inside the node it names (a cycle)");
                        Add(open, size, ref total, where);
                        break;
                }
            }
        }
        catch (YamlException e) { throw Invalid(file, e); }
        catch (Exception e) when (IsParserFault(e)) { throw Invalid(file, e); }
    }

    /// <summary>YamlDotNet's scanner throws these on some malformed input (e.g. <c>[0, 41e-320</c> then a new line) instead of a YamlException.</summary>
    static bool IsParserFault(Exception e) => e is InvalidOperationException or ArgumentException or FormatException or OverflowException or IndexOutOfRangeException;

    static EvoMergeException Invalid(string file, Exception e) => new($"{file}: invalid YAML ({e.Message})", e);

    const long Open = -1;

    sealed class Frame(string? anchor, bool mapping)
    {
        public string? Anchor { get; } = anchor;
        public bool Mapping { get; } = mapping;
        public long Size { get; set; } = 1;
        public long Children { get; set; }
    }

    /// <summary>Counts a finished child (of <paramref name="size"/> expanded nodes) into its parent and the document.</summary>
    static void Add(Stack<Frame> open, long size, ref long total, string where)
    {
        long reached;
        if (open.TryPeek(out var parent))
        {
            parent.Size = reached = Math.Min(parent.Size + size, MaxNodes + 1);
            parent.Children++;
        }
        else total = reached = Math.Min(total + size, MaxNodes + 1); // a document's root: documents add up
        if (reached > MaxNodes)
            throw new EvoMergeException($"{where}: more than {MaxNodes} YAML nodes once aliases are expanded");
    }

    /// <summary>In a mapping, every even child is a key: it must be plain text.</summary>
    static void CheckKey(Stack<Frame> open, ParsingEvent e, string where)
    {
        if (!open.TryPeek(out var parent) || !parent.Mapping || parent.Children % 2 != 0) return;
        if (e is not Scalar) throw new EvoMergeException($"{where}: a field name must be plain text, not a {(e is AnchorAlias ? "alias" : "list or mapping")}");
    }
}
