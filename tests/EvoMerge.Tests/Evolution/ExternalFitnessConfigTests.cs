using EvoMerge.Evaluation.External;
using EvoMerge.Evolution;
using EvoMerge.Evolution.Config;

namespace EvoMerge.Tests.Evolution;

/// <summary>Fitness commands in evolve.yml: both spellings, the defaults of the failure policy, and each mistake's message.</summary>
public class ExternalFitnessConfigTests
{
    static EvolutionConfig Parse(string fitness) => EvolutionConfigReader.Parse($"""
        name: ext
        models: [./a, ./b]
        optimizer: {"{"} generations: 2 {"}"}
        fitness:
          - {fitness}
        """, "evolve.yml", "/runs/here");

    static ScorerCommand Command(string fitness) => Assert.Single(Parse(fitness).Fitness).Command!;

    [Fact]
    public void A_command_string_and_a_command_list_read_into_the_same_argument_list()
    {
        var fromString = Command("""{ command: "python3 'my score.py' {model} --out={out}", timeout: 900, weight: 2 }""");
        var fromList = Command("""{ command: [python3, my score.py, "{model}", "--out={out}"], timeout: 900 }""");
        Assert.Equal(["python3", "my score.py", "{model}", "--out={out}"], fromString.Arguments);
        Assert.Equal(fromString.Arguments, fromList.Arguments);
        Assert.Equal(900, fromString.TimeoutSeconds);
        var config = Parse("""{ command: "python3 score.py {model} {out}", weight: 2 }""");
        var task = Assert.Single(config.Fitness);
        Assert.Equal((TaskConfig.CommandTask, 2.0), (task.Task, task.Weight));
        var spec = TaskSpecs.ToSpec(task, config);
        Assert.Equal((EvoMerge.Evaluation.TaskKind.Command, "/runs/here"), (spec.Kind, spec.DataPath));   // runs in the config's folder
    }

    [Theory]
    [InlineData("", FailurePolicy.Fail, 0)]
    [InlineData(", retries: 2", FailurePolicy.Retry, 2)]           // the spelling: retries alone means retry
    [InlineData(", policy: retry", FailurePolicy.Retry, 1)]
    [InlineData(", policy: skip, skip_score: -1", FailurePolicy.Skip, 0)]
    [InlineData(", policy: skip, retries: 3, skip_score: -1", FailurePolicy.Skip, 3)]
    public void The_policy_and_retries_default_sensibly(string extra, FailurePolicy policy, int retries)
    {
        var c = Command($$"""{ command: "s {model} {out}"{{extra}} }""");
        Assert.Equal((policy, retries, ScorerCommand.DefaultTimeoutSeconds), (c.Policy, c.Retries, c.TimeoutSeconds));
    }

    [Theory]
    [InlineData("{ command: \"s {model}\" }", "line 5: 'fitness[0].command' must pass {out} (the JSON file the program writes its scores to)")]
    [InlineData("{ command: \"s {out}\" }", "line 5: 'fitness[0].command' must pass {model} (the candidate's model folder) to the program")]
    [InlineData("{ command: \"\" }", "line 5: 'fitness[0].command' names no program")]
    [InlineData("{ command: \"s '{model} {out}\" }", "line 5: 'fitness[0].command': the quote ' at character 3 is never closed")]
    [InlineData("{ command: \"s {model} {out}\", timeout: 0 }", "line 5: 'fitness[0].timeout' must be a positive number of seconds")]
    [InlineData("{ command: \"s {model} {out}\", timeout: soon }", "line 5: 'fitness[0].timeout' must be a number, got 'soon'")]
    [InlineData("{ command: \"s {model} {out}\", policy: fail, retries: 1 }", "line 5: 'fitness[0].retries' needs policy retry or skip (policy fail stops at the first failure)")]
    [InlineData("{ command: \"s {model} {out}\", policy: skip }", "line 5: 'fitness[0].policy' skip needs skip_score: the score a candidate gets when every try failed")]
    [InlineData("{ command: \"s {model} {out}\", policy: skipp }", "line 5: 'fitness[0].policy' must be one of fail, retry, skip, got 'skipp' (did you mean 'skip'?)")]
    [InlineData("{ command: \"s {model} {out}\", retries: -1 }", "line 5: 'fitness[0].retries' must be an integer ≥ 0, got '-1'")]
    [InlineData("{ command: \"s {model} {out}\", timout: 9 }", "line 5: unknown key 'fitness[0].timout' (did you mean 'timeout'?); valid keys of fitness[0]: command, timeout, retries, policy, skip_score, weight")]
    [InlineData("{ command: \"s {model} {out}\", minibatch: 9 }", "line 5: unknown key 'fitness[0].minibatch'; valid keys of fitness[0]: command, timeout, retries, policy, skip_score, weight")]
    public void Each_mistake_is_one_line_naming_file_line_and_key(string fitness, string message) =>
        Assert.Equal($"evolve.yml: {message}", Assert.Throws<EvoMergeException>(() => Parse(fitness)).Message);

    [Fact]
    public void A_config_built_in_code_is_checked_too()
    {
        var config = Parse("""{ command: "s {model} {out}" }""") with
        {
            Fitness = [TaskConfig.Of(new ScorerCommand(["s", "{model}", "{out}"])) with { Minibatch = 5 }],
        };
        var e = Assert.Throws<EvoMergeException>(() => EvolutionConfigReader.Validate(config, "config"));
        Assert.Equal("config: fitness command 's {model} {out}': minibatch and limit do not apply (the program chooses its items)", e.Message);
        config = config with { Fitness = [TaskConfig.Of(new ScorerCommand(["s", "{model}", "{out}"], Policy: FailurePolicy.Skip))] };
        e = Assert.Throws<EvoMergeException>(() => EvolutionConfigReader.Validate(config, "config"));
        Assert.Equal("config: fitness command 's {model} {out}': 'policy' skip needs skip_score: the score a candidate gets when every try failed", e.Message);
    }
}
