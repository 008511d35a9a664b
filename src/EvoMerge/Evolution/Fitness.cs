using EvoMerge.Evolution.Config;

namespace EvoMerge.Evolution;

/// <summary>The scalar the search maximises: the weighted sum of the task scores.</summary>
public static class Fitness
{
    public static double Of(IReadOnlyList<TaskConfig> tasks, IReadOnlyList<double> scores)
    {
        double sum = 0;
        for (int i = 0; i < tasks.Count; i++) sum += tasks[i].Weight * scores[i];
        return sum;
    }
}
