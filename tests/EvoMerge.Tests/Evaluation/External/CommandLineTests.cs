using EvoMerge.Evaluation.External;

namespace EvoMerge.Tests.Evaluation.External;

public class CommandLineTests
{
    [Theory]
    [InlineData("python3 score.py {model} {out}", new[] { "python3", "score.py", "{model}", "{out}" })]
    [InlineData("  a   b\tc ", new[] { "a", "b", "c" })]
    [InlineData("run 'two words' \"and \\\"more\\\"\" x\\ y", new[] { "run", "two words", "and \"more\"", "x y" })]
    [InlineData("a'b'\"c\"d", new[] { "abcd" })]   // quotes join with the word around them, as in sh
    [InlineData("echo '$HOME;rm -rf /' `x` | y > z", new[] { "echo", "$HOME;rm -rf /", "`x`", "|", "y", ">", "z" })]
    [InlineData("''", new[] { "" })]
    public void A_command_splits_like_shell_words_and_nothing_is_expanded(string command, string[] expected) =>
        Assert.Equal(expected, CommandLine.Split(command));

    [Theory]
    [InlineData("python3 'score.py", "the quote ' at character 9 is never closed")]
    [InlineData("a \"b", "the quote \" at character 3 is never closed")]
    [InlineData("a \\", "the command ends in a lone backslash")]
    public void An_unclosed_quote_is_an_error_saying_where(string command, string message) =>
        Assert.Equal(message, Assert.Throws<FormatException>(() => CommandLine.Split(command)).Message);

    [Fact]
    public void Joined_arguments_split_back_into_the_same_list()
    {
        string[] args = ["python3", "my scorer.py", "it's", "{model}", "a\"b", "", "$(x)", "c\\d"];
        Assert.Equal(args, CommandLine.Split(CommandLine.Join(args)));
        Assert.Equal("python3 score.py {model} {out}", CommandLine.Join(["python3", "score.py", "{model}", "{out}"]));
    }

    [Fact]
    public void Slots_are_replaced_in_one_pass_so_a_path_holding_a_slot_name_stays_as_it_is()
    {
        var command = new ScorerCommand(["s", "--model={model}", "{out}", "{items}"]);
        Assert.Equal(["s", "--model=/tmp/{out}", "/o.json", "{items}"], command.For("/tmp/{out}", "/o.json"));
    }
}
