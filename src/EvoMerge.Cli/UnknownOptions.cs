using System.Reflection;
using Spectre.Console.Cli;

namespace EvoMerge.Cli;

/// <summary>
/// Refuses options a command does not declare. Spectre.Console.Cli hands them to the command as "remaining
/// arguments", where they would be silently ignored (<c>merge r.yml out --sede 3</c> merging with the default seed);
/// this names the nearest valid option instead, before the command runs.
/// </summary>
sealed class UnknownOptions : ICommandInterceptor
{
    public void Intercept(CommandContext context, CommandSettings settings)
    {
        var unknown = context.Remaining.Parsed.Select(g => g.Key).FirstOrDefault();
        if (unknown == null) return;
        var valid = ValidOptions(settings.GetType());
        string written = unknown.StartsWith('-') ? unknown : (unknown.Length == 1 ? "-" : "--") + unknown;
        string hint = NearestName.Suggest(written, valid);
        throw new EvoMergeException($"unknown option '{written}'{hint}; " +
            (valid.Count == 0 ? "this command takes none" : $"this command's options: {string.Join(", ", valid)}") + " (and --verbose)");
    }

    /// <summary>Every long and short name declared with <see cref="CommandOptionAttribute"/> on the settings type.</summary>
    internal static IReadOnlyList<string> ValidOptions(Type settings) => settings
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Select(p => p.GetCustomAttribute<CommandOptionAttribute>())
        .Where(a => a != null)
        .SelectMany(a => a!.LongNames.Select(n => "--" + n).Concat(a.ShortNames.Select(n => "-" + n)))
        .ToList();
}
