namespace EvoMerge.Evaluation;

/// <summary>An item of a task whose reply is generated and checked: the fields its prompt is built from, and the gold answer.</summary>
/// <param name="Source">Where the item came from ("file line N"), for error messages.</param>
public sealed record TaskItem(IReadOnlyDictionary<string, string> Fields, string Gold, string Source);

/// <summary>A solved example shown before the question in few-shot prompts.</summary>
/// <param name="Solution">The worked answer appended after the exemplar's rendered prompt.</param>
public sealed record Exemplar(IReadOnlyDictionary<string, string> Fields, string Solution, string Source);

/// <summary>An item of a multiple-choice task scored by log-likelihood.</summary>
/// <param name="Label">Index of the correct choice.</param>
public sealed record ChoiceItem(IReadOnlyDictionary<string, string> Fields, IReadOnlyList<string> Choices, int Label, string Source);
