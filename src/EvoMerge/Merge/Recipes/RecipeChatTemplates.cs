namespace EvoMerge.Merge.Recipes;

/// <summary>
/// <c>chat_template</c>: mergekit's built-in names (alpaca, chatml, llama3, mistral, exaone; auto keeps the
/// tokenizer's) or a Jinja template written inline. The templates below are written here from each format's
/// published conversation layout. Resolved at planning time, so <c>check</c> refuses what <c>merge</c> would.
/// </summary>
public static class RecipeChatTemplates
{
    public static readonly IReadOnlyDictionary<string, string> BuiltIn = new Dictionary<string, string>
    {
        ["alpaca"] = "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content'] + '\\n\\n' }}"
            + "{% elif message['role'] == 'user' %}{{ '### Instruction:\\n' + message['content'] + '\\n\\n' }}"
            + "{% elif message['role'] == 'assistant' %}{{ '### Response:\\n' + message['content'] + eos_token + '\\n\\n' }}{% endif %}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '### Response:\\n' }}{% endif %}",
        ["chatml"] = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
        ["llama3"] = "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
        ["mistral"] = "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
            + "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}",
        ["exaone"] = "{% for message in messages %}{% if message['role'] == 'system' %}{{ '[|system|]' + message['content'] + '[|endofturn|]\\n' }}"
            + "{% elif message['role'] == 'user' %}{{ '[|user|]' + message['content'] + '\\n' }}"
            + "{% elif message['role'] == 'assistant' %}{{ '[|assistant|]' + message['content'] + '[|endofturn|]\\n' }}{% endif %}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '[|assistant|]' }}{% endif %}",
    };

    /// <summary>The template to write into the merged folder, null to keep the tokenizer's (none given, or <c>auto</c>).</summary>
    public static string? Resolve(Recipe recipe)
    {
        string? value = recipe.ChatTemplate;
        if (value is null or "auto") return null;
        if (BuiltIn.TryGetValue(value, out var template)) return template;
        if (!value.Contains("{%") && !value.Contains("{{"))
            throw new EvoMergeException($"{recipe.ChatTemplateMark}: chat_template: '{value}' is neither a built-in name (auto, {string.Join(", ", BuiltIn.Keys)}) " +
                $"nor a Jinja template{NearestName.Suggest(value, BuiltIn.Keys.Append("auto"))}");
        if (Count(value, "{%") != Count(value, "%}") || Count(value, "{{") != Count(value, "}}"))
            throw new EvoMergeException($"{recipe.ChatTemplateMark}: chat_template: the Jinja template's {{% %}} or {{{{ }}}} tags are unbalanced");
        return value;
    }

    static int Count(string text, string tag)
    {
        int n = 0;
        for (int i = text.IndexOf(tag, StringComparison.Ordinal); i >= 0; i = text.IndexOf(tag, i + tag.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
