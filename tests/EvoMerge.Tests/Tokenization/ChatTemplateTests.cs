using EvoMerge.Tokenization;

namespace EvoMerge.Tests.Tokenization;

/// <summary>
/// Expected strings are what transformers' <c>apply_chat_template(..., add_generation_prompt=True)</c> renders for
/// each published template (worked by hand from the Jinja source quoted here), without the leading BOS.
/// </summary>
public class ChatTemplateTests
{
    // Qwen2-Instruct (ChatML), abridged to its message loop.
    const string ChatML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    // Mistral-7B-Instruct-v0.1.
    const string Mistral = "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}";
    // Llama-2-chat.
    const string Llama2 = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
    // Zephyr-7B-beta.
    const string Zephyr = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";
    // Llama-3-Instruct.
    const string Llama3 = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    static readonly ChatMessage System = new("system", "You are helpful.");
    static readonly ChatMessage User = new("user", "Hi");

    [Fact]
    public void ChatMLRendersEachTurnAndTheAssistantCue() =>
        Assert.Equal("<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            ChatTemplate.Recognize(ChatML, "<|im_end|>", "t").Render([System, User]));

    [Fact]
    public void MistralWrapsUserTurnsInInst() =>
        Assert.Equal("[INST] Hi [/INST]Hello</s> [INST] How? [/INST]",
            ChatTemplate.Recognize(Mistral, "</s>", "t").Render([User, new("assistant", "Hello"), new("user", "How?")]));

    [Fact]
    public void Llama2FoldsTheSystemPromptIntoTheFirstTurn() =>
        Assert.Equal("[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHi [/INST]",
            ChatTemplate.Recognize(Llama2, "</s>", "t").Render([System, User]));

    [Fact]
    public void ZephyrEndsTurnsWithEos() =>
        Assert.Equal("<|system|>\nYou are helpful.</s>\n<|user|>\nHi</s>\n<|assistant|>\n",
            ChatTemplate.Recognize(Zephyr, "</s>", "t").Render([System, User]));

    [Fact]
    public void Llama3UsesHeaders() =>
        Assert.Equal("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            ChatTemplate.Recognize(Llama3, "<|eot_id|>", "t").Render([User]));

    [Fact]
    public void UnknownOrMissingTemplatesAreClearErrors()
    {
        var e = Assert.Throws<EvoMergeException>(() => ChatTemplate.Recognize("{{ messages | tojson }}", null, "m/tokenizer_config.json"));
        Assert.Contains("m/tokenizer_config.json", e.Message);
        Assert.Contains("chat_template", e.Message);
        Assert.Throws<EvoMergeException>(() => ChatTemplate.Recognize(null, null, "m/tokenizer_config.json"));
        Assert.Throws<EvoMergeException>(() => ChatTemplate.Recognize(Mistral, "</s>", "t").Render([System, User]));
    }
}
