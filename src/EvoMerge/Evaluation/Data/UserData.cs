namespace EvoMerge.Evaluation.Data;

/// <summary>
/// Items of a user task: any JSONL whose fields the prompt template names, with the gold answer in one field
/// (default <c>answer</c>). Every field, the answer included, is available to the template.
/// </summary>
public static class UserData
{
    public static IReadOnlyList<TaskItem> Load(string path, string answerField = "answer") =>
        JsonlRecords.Read(path).Select(r => new TaskItem(r.Fields, r.Require(answerField), r.Source)).ToArray();
}
