using System.Text;

namespace EvoMerge.Tokenization;

public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// Renders a conversation as the model's <c>tokenizer_config.json</c> <c>chat_template</c> would. Templates are
/// Jinja programs; rather than embed a Jinja interpreter, this recognises the common forms by their markers
/// (ChatML, Llama 2 <c>[INST] &lt;&lt;SYS&gt;&gt;</c>, Mistral <c>[INST]</c>, Llama 3 headers, Zephyr
/// <c>&lt;|user|&gt;</c>, Alpaca <c>### Instruction</c>) and writes each form by hand; any other template is an
/// error rather than a guess. The text never starts with BOS: encode it with <c>addBos: true</c>.
/// </summary>
public sealed class ChatTemplate
{
    public enum Form { ChatML, Llama2, Mistral, Llama3, Zephyr, Alpaca }

    ChatTemplate(Form kind, string eos)
    {
        Kind = kind;
        this.eos = eos;
    }

    readonly string eos;
    public Form Kind { get; }

    /// <param name="template">The <c>chat_template</c> string; <paramref name="source"/> names the file in errors.</param>
    public static ChatTemplate Recognize(string? template, string? eosToken, string source)
    {
        if (string.IsNullOrWhiteSpace(template))
            throw new EvoMergeException($"{source}: no 'chat_template'; --chat needs a model with a chat template");
        Form? form =
            template.Contains("<|im_start|>") ? Form.ChatML :
            template.Contains("<|start_header_id|>") ? Form.Llama3 :
            template.Contains("[INST]") && template.Contains("<<SYS>>") ? Form.Llama2 :
            template.Contains("[INST]") ? Form.Mistral :
            template.Contains("<|user|>") && template.Contains("<|assistant|>") ? Form.Zephyr :
            template.Contains("### Instruction") && template.Contains("### Response") ? Form.Alpaca :
            null;
        return form is Form f
            ? new ChatTemplate(f, eosToken ?? "</s>")
            : throw new EvoMergeException($"{source}: field 'chat_template' is not one of the forms EvoMerge renders (ChatML, Llama 2, Mistral, Llama 3, Zephyr, Alpaca); pass the formatted prompt without --chat");
    }

    /// <summary>The conversation, ending with the cue for the assistant's reply.</summary>
    public string Render(IReadOnlyList<ChatMessage> messages)
    {
        var sb = new StringBuilder();
        switch (Kind)
        {
            case Form.ChatML:
                foreach (var m in messages) sb.Append($"<|im_start|>{m.Role}\n{m.Content}<|im_end|>\n");
                sb.Append("<|im_start|>assistant\n");
                break;
            case Form.Llama3:
                foreach (var m in messages) sb.Append($"<|start_header_id|>{m.Role}<|end_header_id|>\n\n{m.Content.Trim()}<|eot_id|>");
                sb.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
                break;
            case Form.Llama2:
                // The system prompt is folded into the first user turn; later turns restart with BOS.
                string? system = messages.FirstOrDefault(m => m.Role == "system")?.Content;
                bool first = true;
                foreach (var m in messages.Where(m => m.Role != "system"))
                {
                    if (m.Role == "user")
                    {
                        string content = first && system != null ? $"<<SYS>>\n{system}\n<</SYS>>\n\n{m.Content}" : m.Content;
                        sb.Append(first ? "" : "<s>").Append($"[INST] {content.Trim()} [/INST]");
                        first = false;
                    }
                    else sb.Append($" {m.Content.Trim()} {eos}");
                }
                break;
            case Form.Mistral:
                foreach (var m in messages)
                    sb.Append(m.Role switch
                    {
                        "user" => $"[INST] {m.Content} [/INST]",
                        "assistant" => $"{m.Content}{eos} ",
                        _ => throw new EvoMergeException($"chat template (Mistral form): role '{m.Role}' is not supported; only user and assistant"),
                    });
                break;
            case Form.Zephyr:
                foreach (var m in messages) sb.Append($"<|{m.Role}|>\n{m.Content}{eos}\n");
                sb.Append("<|assistant|>\n");
                break;
            case Form.Alpaca:
                foreach (var m in messages)
                    sb.Append(m.Role switch
                    {
                        "user" => $"### Instruction:\n{m.Content}\n\n",
                        "assistant" => $"### Response:\n{m.Content}\n\n",
                        _ => $"{m.Content}\n\n",
                    });
                sb.Append("### Response:\n");
                break;
        }
        return sb.ToString();
    }
}
