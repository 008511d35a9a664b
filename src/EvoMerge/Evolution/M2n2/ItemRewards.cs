using EvoMerge.Evolution.Config;
using EvoMerge.Evolution.Run;

namespace EvoMerge.Evolution.M2n2;

/// <summary>
/// From a journal line's per-item scores to M2N2's resources: the items of every fitness task side by side, each
/// worth its task's weight ÷ its item count (so at α = 0 a member's summed shares are the run's fitness), each
/// earned to the degree of its reward in [0, 1]: 1 or 0 for a solved item; for a perplexity window its per-token
/// likelihood exp(log-likelihood per token), the inverse of its perplexity.
/// </summary>
public static class ItemRewards
{
    public static (int[][] Items, double[] Rewards, double[] Values) Of(IReadOnlyList<TaskConfig> tasks, IReadOnlyList<ItemScores>? scored, string where)
    {
        if (scored is null || scored.Count != tasks.Count)
            throw new EvoMergeException($"{where}: m2n2 needs the per-item scores of every fitness task (journal line without 'items')");
        var rewards = new List<double>();
        var values = new List<double>();
        for (int k = 0; k < tasks.Count; k++)
        {
            var (items, scores) = (scored[k].Items, scored[k].Scores);
            bool likelihood = tasks[k].Task == "perplexity";
            foreach (double s in scores)
            {
                double r = likelihood ? Math.Exp(s) : s;
                if (!(r >= 0 && r <= 1))
                    throw new EvoMergeException($"{where}: task '{tasks[k].Task}' ({tasks[k].Data}) scored an item {s}; m2n2 shares items whose reward is in [0, 1]");
                rewards.Add(r);
                values.Add(tasks[k].Weight / Math.Max(1, items.Length));
            }
        }
        return (scored.Select(s => s.Items).ToArray(), rewards.ToArray(), values.ToArray());
    }
}
