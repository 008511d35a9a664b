using System.Collections.Concurrent;
using System.Diagnostics;
using EvoMerge.Candidates;
using EvoMerge.Cluster.Contracts;
using Orleans.Runtime.Placement;

namespace EvoMerge.Cluster.Driver;

/// <summary>
/// The driver's evaluator: spreads each batch over every slot of every live worker silo and yields results as they
/// arrive. Each free slot takes the next unsent work, so no worker waits for another until the batch runs out.
/// Membership is read every <see cref="ClusterEvaluatorOptions.MembershipPoll"/>: a silo that joins gets work at
/// once; work on a silo that dies (or whose call fails) goes back to the front of the queue; a result is used once
/// per work key, whatever arrives later. Layer counts and the final model folder come from <paramref name="local"/>
/// (the driver's own files), so no weights ever cross the wire.
/// </summary>
public sealed class ClusterCandidateEvaluator(
    IClusterClient client,
    ICandidateEvaluator local,
    ClusterEvaluatorOptions? options = null,
    IProgress<ClusterStatus>? status = null) : ICandidateEvaluator
{
    readonly ClusterEvaluatorOptions _options = options ?? ClusterEvaluatorOptions.Default;
    readonly Dictionary<SiloAddress, Worker> _workers = new();
    readonly Dictionary<string, string> _fingerprints = new();
    readonly Stopwatch _clock = Stopwatch.StartNew();
    DateTime _lastPoll = DateTime.MinValue;

    sealed class Worker(SiloAddress silo, WorkerInfo info, double since)
    {
        public SiloAddress Silo { get; } = silo;
        public WorkerInfo Info { get; } = info;
        public double Since { get; } = since;
        public bool Dead, Refused;
        public int Evaluations;
        public double BusySeconds;
        public double? DiedAt;
        /// <summary>When a call to it last failed: it gets no work until membership says it is dead or the pause ends.</summary>
        public double? SuspectSince;
    }

    sealed record Item(string Key, WorkOrder Order);

    sealed class Running(Worker worker, int slot, Item item, Task<WorkReply> reply, double started)
    {
        public Worker Worker { get; } = worker;
        public int Slot { get; } = slot;
        public Item Item { get; } = item;
        public Task<WorkReply> Reply { get; } = reply;
        public double Started { get; } = started;
        /// <summary>When the slot last said it is scoring this work; a pending <see cref="Check"/> asks again.</summary>
        public double Confirmed = started;
        public Task<string>? Check;
    }

    /// <summary>A call quiet this long is checked with its slot (a reply lost with a dead gateway never arrives).</summary>
    static readonly TimeSpan CheckAfter = TimeSpan.FromSeconds(5);

    public int LayerCount(string model) => local.LayerCount(model);

    public void WriteModel(ModelBuild build, string folder, CancellationToken cancellationToken) => local.WriteModel(build, folder, cancellationToken);

    /// <summary>Every worker seen so far, for reports and the benchmark's idle fraction.</summary>
    public IReadOnlyList<WorkerStatus> Workers => _workers.Values.Select(StatusOf).ToList();

    public IEnumerable<CandidateResult> Evaluate(IReadOnlyList<CandidateWork> batch, CancellationToken cancellationToken)
    {
        var results = new BlockingCollection<CandidateResult>();
        var dispatch = Task.Run(async () =>
        {
            try { await Dispatch(batch, results, cancellationToken); }
            finally { results.CompleteAdding(); }
        }, CancellationToken.None);
        foreach (var result in results.GetConsumingEnumerable(CancellationToken.None)) yield return result;
        dispatch.GetAwaiter().GetResult();   // a failed run throws here, after every result that did arrive
    }

    async Task Dispatch(IReadOnlyList<CandidateWork> batch, BlockingCollection<CandidateResult> results, CancellationToken cancellationToken)
    {
        var pending = new LinkedList<Item>(batch.Select(Order));
        var running = new List<Running>();
        var done = new HashSet<string>();
        var attempts = new Dictionary<string, int>();
        double waitingSince = _clock.Elapsed.TotalSeconds;
        string? message = null;
        while (done.Count < batch.Count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (DateTime.UtcNow - _lastPoll >= _options.MembershipPoll || Usable().All(w => w.Refused))
                message = await Poll(running, pending) ?? message;

            foreach (var (worker, slot) in FreeSlots(running))
            {
                if (pending.First is not { } first) break;
                pending.RemoveFirst();
                running.Add(Send(worker, slot, first.Value));
            }
            if (running.Count > 0) waitingSince = _clock.Elapsed.TotalSeconds;
            else if (_clock.Elapsed.TotalSeconds - waitingSince > _options.WaitForWorkers.TotalSeconds)
                throw new EvoMergeException(NoWorkerMessage());
            Report(pending.Count, running.Count, message);

            await Task.WhenAny([.. running.Select(r => (Task)r.Reply), Task.Delay(_options.MembershipPoll, cancellationToken)]);
            Track(running);
            foreach (var r in running.Where(r => r.Reply.IsCompleted || Lost(r)).ToList())
            {
                running.Remove(r);
                r.Worker.BusySeconds += _clock.Elapsed.TotalSeconds - r.Started;
                if (!r.Reply.IsCompleted)
                {
                    // The slot does not have this work although the call is open: the call was lost. Send it again.
                    pending.AddFirst(r.Item);
                    message = $"a call to worker {r.Worker.Info.Name} was lost; its work is sent again";
                    continue;
                }
                if (!r.Reply.IsCompletedSuccessfully)
                {
                    // The call was lost (the silo died or the connection broke): send the work again, elsewhere if need be.
                    int n = attempts[r.Item.Key] = attempts.GetValueOrDefault(r.Item.Key) + 1;
                    if (n >= _options.MaxAttempts)
                        throw new EvoMergeException($"work {r.Item.Key} was lost {n} times on failing workers; last: {r.Reply.Exception?.GetBaseException().Message}");
                    pending.AddFirst(r.Item);
                    r.Worker.SuspectSince = _clock.Elapsed.TotalSeconds;
                    _lastPoll = DateTime.MinValue;
                    continue;
                }
                var reply = r.Reply.Result;
                if (reply.Error is { } error) throw new EvoMergeException(error);
                if (reply.Refusal is { } refusal)
                {
                    r.Worker.Refused = true;
                    message = refusal;
                    pending.AddFirst(r.Item);
                    continue;
                }
                if (!done.Add(r.Item.Key)) continue;   // a late duplicate: the first result counts, once
                r.Worker.Evaluations++;
                results.Add(WorkWire.DecodeResult(reply.ResultJson!, r.Item.Key), cancellationToken);
            }
        }
        Report(0, 0, message);
    }

    /// <summary>Asks the slot of every call quiet for <see cref="CheckAfter"/> whether it still has the work.</summary>
    void Track(List<Running> running)
    {
        double now = _clock.Elapsed.TotalSeconds;
        foreach (var r in running)
        {
            if (r.Check is { IsCompletedSuccessfully: true } done && done.Result == "running") (r.Confirmed, r.Check) = (now, null);
            else if (r.Check is { IsFaulted: true }) r.Check = null;   // unreachable for now: membership decides
            if (r.Check is null && !r.Reply.IsCompleted && now - r.Confirmed > CheckAfter.TotalSeconds)
            {
                var grain = client.GetGrain<IEvaluatorGrain>(SlotKey(r.Worker.Silo, r.Slot));
                r.Check = OnSilo(r.Worker.Silo, () => grain.Track(r.Item.Order.WorkKey));
            }
        }
    }

    /// <summary>The slot answered that it neither scores this work nor has its result... or has it, and the reply was lost.</summary>
    static bool Lost(Running r) => !r.Reply.IsCompleted && r.Check is { IsCompletedSuccessfully: true } check && check.Result != "running";

    Item Order(CandidateWork work)
    {
        string json = WorkWire.Encode(work);
        var paths = work.Build.SourceModels
            .Concat(work.Tasks.SelectMany(t => (string?[])[t.Spec.DataPath, t.Spec.ExemplarsPath]).OfType<string>())
            .Distinct();
        var fingerprints = paths.ToDictionary(p => p, p => _fingerprints.TryGetValue(p, out var f) ? f : _fingerprints[p] = SourceFingerprint.Of(p));
        return new Item(work.Key, new WorkOrder(WorkWire.KeyOf(json), json, fingerprints));
    }

    Running Send(Worker worker, int slot, Item item)
    {
        var grain = client.GetGrain<IEvaluatorGrain>(SlotKey(worker.Silo, slot));
        return new Running(worker, slot, item, OnSilo(worker.Silo, () => grain.Evaluate(item.Order)), _clock.Elapsed.TotalSeconds);
    }

    /// <summary>A slot grain is activated on the silo its key names: the placement hint travels with the call.</summary>
    static Task<T> OnSilo<T>(SiloAddress silo, Func<Task<T>> call) => Task.Run(() =>
    {
        RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
        return call();
    });

    static string SlotKey(SiloAddress silo, int slot) => $"{silo.ToParsableString()}/{slot}";

    IEnumerable<Worker> Usable() => _workers.Values.Where(w => !w.Dead);

    /// <summary>
    /// A worker whose call failed may be dying (membership declares that within seconds) or may have hiccuped; it
    /// rests this long before it gets work again, so that work does not bounce off a dying silo.
    /// </summary>
    static readonly TimeSpan SuspectPause = TimeSpan.FromSeconds(15);

    IEnumerable<(Worker, int)> FreeSlots(List<Running> running) =>
        Usable().Where(w => !w.Refused && !(w.SuspectSince is double t && _clock.Elapsed.TotalSeconds - t < SuspectPause.TotalSeconds))
            .SelectMany(w => Enumerable.Range(0, w.Info.Slots).Select(s => (w, s)))
            .Where(ws => !running.Any(r => r.Worker == ws.w && r.Slot == ws.s))
            .ToList();

    /// <summary>Reads membership: new silos become workers, silos gone take their running work back to the queue.</summary>
    async Task<string?> Poll(List<Running> running, LinkedList<Item> pending)
    {
        _lastPoll = DateTime.UtcNow;
        var messages = new List<string>();   // every change of this poll, so no join or death goes unreported
        Dictionary<SiloAddress, SiloStatus> hosts;
        try { hosts = await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true); }
        catch (Exception e) when (e is not OperationCanceledException) { return $"membership unreadable for now: {e.Message}"; }
        foreach (var worker in _workers.Values.Where(w => !w.Dead && !hosts.ContainsKey(w.Silo)))
        {
            worker.Dead = true;
            worker.DiedAt = _clock.Elapsed.TotalSeconds;
            foreach (var r in running.Where(r => r.Worker == worker).ToList())
            {
                running.Remove(r);
                worker.BusySeconds += _clock.Elapsed.TotalSeconds - r.Started;
                pending.AddFirst(r.Item);
            }
            messages.Add($"worker {worker.Info.Name} died; its work goes to the others");
        }
        foreach (var silo in hosts.Keys.Where(s => !_workers.ContainsKey(s)))
        {
            try
            {
                var grain = client.GetGrain<IEvaluatorGrain>(SlotKey(silo, 0));
                var info = await OnSilo(silo, grain.Describe).WaitAsync(TimeSpan.FromSeconds(30));
                _workers[silo] = new Worker(silo, info, _clock.Elapsed.TotalSeconds);
                messages.Add($"worker {info.Name} joined with {info.Slots} slot(s)");
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                messages.Add($"silo {silo} did not answer yet: {e.GetBaseException().Message}");
            }
        }
        return messages.Count == 0 ? null : string.Join("; ", messages);
    }

    string NoWorkerMessage()
    {
        var refused = _workers.Values.Where(w => w.Refused && !w.Dead).Select(w => w.Info.Name).ToList();
        return refused.Count > 0
            ? $"no worker can take the work: every live worker refused it ({string.Join(", ", refused)}); their files differ from the driver's"
            : $"no worker joined the cluster within {_options.WaitForWorkers.TotalSeconds:0} s (start one with `evomerge worker --cluster <spec>`)";
    }

    WorkerStatus StatusOf(Worker w)
    {
        double known = (w.DiedAt ?? _clock.Elapsed.TotalSeconds) - w.Since;
        string state = w.Dead ? "dead" : w.Refused ? "refused" : w.SuspectSince is double t && _clock.Elapsed.TotalSeconds - t < SuspectPause.TotalSeconds ? "suspect" : "live";
        return new WorkerStatus(w.Info.Name, w.Silo.ToString(), w.Info.Slots, state, w.Evaluations,
            known > 0 ? w.Evaluations / known : 0, w.BusySeconds, known * w.Info.Slots);
    }

    void Report(int pending, int running, string? message) =>
        status?.Report(new ClusterStatus(Workers, pending, running, message));
}
