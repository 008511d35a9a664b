using EvoMerge.Anatomy;
using EvoMerge.IO;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace EvoMerge.Cli.Inspect;

/// <summary>Renders a <see cref="ModelSummary"/> as Spectre.Console tables: overview, shards, per-layer totals, and the tensors of one layer.</summary>
static class ModelSummaryView
{
    public static IEnumerable<IRenderable> Render(ModelSummary s)
    {
        yield return Overview(s);
        if (s.Shards.Count > 1) yield return Shards(s);
        yield return PerLayer(s);
        yield return Tensors(s);
    }

    static Table Overview(ModelSummary s)
    {
        var table = new Table().Title("[bold]Model[/]").HideHeaders().AddColumns("", "");
        table.AddRow("path", Markup.Escape(s.Path));
        table.AddRow("architecture", Markup.Escape(s.Architecture ?? "(no config.json)") +
                                     (s.LayoutKnown ? "" : " [grey](layers inferred from tensor names)[/]"));
        table.AddRow("parameters", $"{Human(s.Parameters, "")} ({s.Parameters:N0})");
        table.AddRow("size", Human(s.Bytes, "B"));
        table.AddRow("layers", s.Layers.ToString());
        table.AddRow("dtypes", string.Join(", ", s.DTypes.Select(d => $"{d.DType} {Human(d.Parameters, "")}")));
        table.AddRow("shards", s.Shards.Count.ToString());
        if (s.Config is { } c)
        {
            table.AddRow("hidden / intermediate", $"{c.HiddenSize} / {c.IntermediateSize}");
            table.AddRow("heads / kv heads / head dim", $"{c.NumHeads} / {c.NumKvHeads} / {c.HeadDim}");
            table.AddRow("vocabulary", $"{c.VocabSize}{(c.TieWordEmbeddings ? " (embeddings tied to the head)" : "")}");
            if (c.RopeTheta != null || c.RopeScaling != null)
                table.AddRow("rope", Markup.Escape($"theta {c.RopeTheta}{(c.RopeScaling is string sc ? ", scaling " + sc : "")}"));
        }
        return table;
    }

    static Table Shards(ModelSummary s)
    {
        var table = new Table().Title("[bold]Shards[/]").AddColumns("file", "tensors", "size");
        table.Columns[1].RightAligned();
        table.Columns[2].RightAligned();
        foreach (var (file, tensors, bytes) in s.Shards) table.AddRow(Markup.Escape(file), tensors.ToString(), Human(bytes, "B"));
        return table;
    }

    static Table PerLayer(ModelSummary s)
    {
        var table = new Table().Title("[bold]Per layer[/]").AddColumns("part", "tensors", "parameters", "dtypes");
        table.Columns[1].RightAligned();
        table.Columns[2].RightAligned();
        foreach (var row in s.PerLayer)
        {
            string part = row.Label ?? (row.Place.Role == TensorRole.Layer ? $"layer {row.Place.Layer}" : ModelSummary.RoleName(row.Place.Role));
            table.AddRow(part, row.Tensors.ToString(), row.Parameters.ToString("N0"), string.Join(", ", row.DTypes));
        }
        return table;
    }

    /// <summary>The tensors outside the layers, and those of the first layer (the others repeat its pattern).</summary>
    static Table Tensors(ModelSummary s)
    {
        bool sharded = s.Shards.Count > 1;
        var table = new Table().Title("[bold]Tensors[/] [grey](layer 0 shown for every layer)[/]").AddColumns("name", "dtype", "shape");
        if (sharded) table.AddColumn("file");
        foreach (var (tensor, place, file) in s.Tensors.Where(t => t.Place.Layer <= 0))
        {
            string[] cells = [Markup.Escape(tensor.Name), tensor.DType.ToString(), Markup.Escape(tensor.ShapeText), Markup.Escape(file)];
            table.AddRow(sharded ? cells : cells[..3]);
        }
        return table;
    }

    /// <summary>1234567 → "1.23 M"; with a unit, bytes in decimal units ("2.47 GB").</summary>
    static string Human(long value, string unit)
    {
        string[] prefixes = unit == "B" ? ["B", "kB", "MB", "GB", "TB"] : ["", "k", "M", "B", "T"];
        double v = value;
        int i = 0;
        while (v >= 1000 && i < prefixes.Length - 1) { v /= 1000; i++; }
        return i == 0 ? $"{value} {prefixes[0]}".TrimEnd() : $"{v:0.##} {prefixes[i]}";
    }
}
