namespace EvoMerge.Merge.Recipes;

/// <summary>
/// A recipe's <c>chat_template</c>: a Jinja template written inline, or <c>chatml</c>; <c>auto</c> (or none) keeps the
/// tokenizer's. Resolved when the recipe is checked, so a bad value fails <c>check</c> with its line, before any merge.
/// </summary>
public static class RecipeChatTemplate
{
    const string ChatMl = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>The template text to write, or null to keep the tokenizer's.</summary>
    public static string? Resolve(Recipe recipe) => recipe.ChatTemplate switch
    {
        null or "auto" => null,
        "chatml" => ChatMl,
        var t when t.Contains("{%") || t.Contains("{{") => t,
        var t => throw new EvoMergeException($"{recipe.ChatTemplateMark}: chat_template: '{t}' is neither 'auto', 'chatml' nor a Jinja template (with {{{{ }}}} or {{% %}})"),
    };
}
