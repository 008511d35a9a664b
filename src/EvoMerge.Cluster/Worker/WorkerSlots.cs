using System.Collections.Concurrent;
using System.Text.Json;
using EvoMerge.Candidates;
using EvoMerge.Cluster.Contracts;
using EvoMerge.Evaluation;
using EvoMerge.Evolution.Run;

namespace EvoMerge.Cluster.Worker;

/// <summary>
/// A worker silo's evaluators, one per slot, living as long as the silo (grain activations come and go; the
/// models an evaluator keeps resident must not). Checks each order's fingerprints against its own files before
/// building anything, and remembers recent results by work key, so an order sent again is answered, not re-scored.
/// </summary>
public sealed class WorkerSlots(WorkerOptions options) : IDisposable
{
    const int RememberedResults = 4096;

    readonly ICandidateEvaluator?[] _evaluators = new ICandidateEvaluator?[options.Slots];
    readonly ConcurrentDictionary<string, string> _fingerprints = new();
    readonly ConcurrentDictionary<string, string> _results = new();
    readonly ConcurrentQueue<string> _resultOrder = new();
    readonly ConcurrentDictionary<string, EvalTaskSpec> _specs = new();
    readonly ConcurrentDictionary<int, string> _running = new();

    public WorkerInfo Info => new(options.Name, options.Slots, options.BatchSize);

    public WorkReply Evaluate(int slot, WorkOrder order, CancellationToken cancellationToken)
    {
        if (slot < 0 || slot >= _evaluators.Length) return new WorkReply(order.WorkKey, null, null, $"worker {options.Name} has no slot {slot}", false);
        if (_results.TryGetValue(order.WorkKey, out string? done)) return new WorkReply(order.WorkKey, done, null, null, false);
        if (Refusal(order) is { } refusal) return new WorkReply(order.WorkKey, null, refusal, null, false);
        _running[slot] = order.WorkKey;
        try
        {
            var work = Intern(WorkWire.DecodeWork(order.WorkJson));
            var evaluator = _evaluators[slot] ??= options.CreateEvaluator(slot);
            var result = evaluator.Evaluate([work], cancellationToken).Single();
            string json = WorkWire.Encode(result);
            Remember(order.WorkKey, json);
            return new WorkReply(order.WorkKey, json, null, null, true);
        }
        catch (Exception e) when (e is EvoMergeException or JsonException or IOException)
        {
            return new WorkReply(order.WorkKey, null, null, $"worker {options.Name}: {e.Message}", false);
        }
        finally { _running.TryRemove(slot, out _); }
    }

    /// <summary>running, done or unknown: what the slot knows of the work (see <see cref="IEvaluatorGrain.Track"/>).</summary>
    public string Track(int slot, string workKey) =>
        _running.TryGetValue(slot, out string? key) && key == workKey ? "running" : _results.ContainsKey(workKey) ? "done" : "unknown";

    /// <summary>Why this worker must not score the order (its files differ from the driver's), or null.</summary>
    string? Refusal(WorkOrder order)
    {
        var fingerprint = options.Fingerprint ?? SourceFingerprint.Of;
        foreach (var (path, expected) in order.Fingerprints)
        {
            string mine = _fingerprints.GetOrAdd(path, fingerprint);
            if (mine == expected) continue;
            return mine == SourceFingerprint.Absent
                ? $"worker {options.Name} refused: it has no {path}, which the driver has (copy the same files to the same path on every machine)"
                : $"worker {options.Name} refused: its {path} differs from the driver's (fingerprint {mine} here, {expected} on the driver: config.json, tensor headers or content differ)";
        }
        return null;
    }

    /// <summary>
    /// One instance per distinct task spec, as in a single process: evaluators cache a loaded task per spec, and a
    /// decoded spec's lists would otherwise make every order a new spec.
    /// </summary>
    CandidateWork Intern(CandidateWork work) => work with
    {
        Tasks = work.Tasks.Select(t => t with { Spec = _specs.GetOrAdd(JsonSerializer.Serialize(t.Spec, RunJson.Options), _ => t.Spec) }).ToList(),
    };

    void Remember(string key, string json)
    {
        if (!_results.TryAdd(key, json)) return;
        _resultOrder.Enqueue(key);
        while (_resultOrder.Count > RememberedResults && _resultOrder.TryDequeue(out string? old)) _results.TryRemove(old, out _);
    }

    public void Dispose()
    {
        foreach (var e in _evaluators) (e as IDisposable)?.Dispose();
    }
}
