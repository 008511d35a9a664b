using System.Collections.Concurrent;
using System.Diagnostics;
using EvoMerge.Candidates;
using EvoMerge.Cluster.Contracts;
using EvoMerge.Evaluation;
using EvoMerge.Evolution.Run;
using Orleans.Runtime.Placement;

namespace EvoMerge.Cluster.Driver;

/// <summary>
/// The driver's evaluator: spreads work over every slot of every live worker silo and yields results as they
/// arrive. One dispatcher serves every call, so concurrent calls (a steady-state search with several children in
/// flight) share one queue; each free slot takes the next unsent work. When the work left would leave slots idle (the
/// last round of a generation, or fewer candidates than slots) a candidate is cut into parts over its items
/// (<see cref="ItemParts"/>; how many by <see cref="PartPlan"/>) and its result is put back together exactly.
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
    readonly ConcurrentDictionary<SiloAddress, Worker> _workers = new();
    readonly ConcurrentDictionary<string, string> _fingerprints = new();
    readonly ConcurrentDictionary<EvalTaskSpec, int?> _itemCounts = new();
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly object _lock = new();   // guards _incoming, _dispatcher and _arrived
    readonly List<List<Item>> _incoming = [];
    Task? _dispatcher;
    TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    DateTime _lastPoll = DateTime.MinValue;
    double _buildSeconds, _scoreSeconds;
    int _splitCandidates;

    sealed class Worker(SiloAddress silo, WorkerInfo info, double since)
    {
        public SiloAddress Silo { get; } = silo;
        public WorkerInfo Info { get; } = info;
        public double Since { get; } = since;
        public bool Dead, Refused;
        public int Results;
        public double Candidates, BusySeconds;
        public double? DiedAt;
        /// <summary>Per slot, the key of the work it is scoring, or null (an array: read by status reports on other threads).</summary>
        public string?[] Work { get; } = new string?[info.Slots];
        /// <summary>When the driver last heard from it: a reply, a slot confirming its work, or membership listing it alive.</summary>
        public DateTime LastSeen = DateTime.UtcNow;
        /// <summary>When a call to it last failed: it gets no work until membership says it is dead or the pause ends.</summary>
        public double? SuspectSince;
    }

    /// <summary>One call of <see cref="Evaluate"/>: its results go to its own collection, its failure to it alone.</summary>
    sealed class Job(int count, CancellationToken cancellation)
    {
        public BlockingCollection<CandidateResult> Results { get; } = new();
        public CancellationToken Cancellation { get; } = cancellation;
        public int Outstanding = count;
        public Exception? Failure;
        public bool Finished => Results.IsAddingCompleted;
    }

    /// <summary>A candidate cut into parts: their results, as they come.</summary>
    sealed class Whole(CandidateWork work, int parts)
    {
        public CandidateWork Work { get; } = work;
        public CandidateResult?[] Parts { get; } = new CandidateResult?[parts];
    }

    /// <summary>Queued work: a whole candidate (<see cref="Of"/> null) or part <see cref="Part"/> of one.</summary>
    sealed class Item(Job job, CandidateWork work, WorkOrder order, Whole? of = null, int part = 0)
    {
        public Job Job { get; } = job;
        public CandidateWork Work { get; } = work;
        public WorkOrder Order { get; } = order;
        public Whole? Of { get; } = of;
        public int Part { get; } = part;
        public string Key => Order.WorkKey;
        /// <summary>Per task, its items (subset resolved), when the driver could count them; null: not splittable.</summary>
        public int[][]? Items;
        public bool Done;
    }

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

    /// <summary>Before any result says otherwise, the share of a candidate's time assumed spent building it.</summary>
    const double AssumedBuildShare = 0.25;

    public int LayerCount(string model) => local.LayerCount(model);

    public void WriteModel(ModelBuild build, string folder, CancellationToken cancellationToken) => local.WriteModel(build, folder, cancellationToken);

    /// <summary>Every worker seen so far, for reports and the benchmark's idle fraction.</summary>
    public IReadOnlyList<WorkerStatus> Workers => _workers.Values.OrderBy(w => w.Since).Select(StatusOf).ToList();

    /// <summary>Candidates cut into parts so far.</summary>
    public int SplitCandidates => Volatile.Read(ref _splitCandidates);

    /// <summary>Safe to call from several threads at once: every call's work joins one queue.</summary>
    public IEnumerable<CandidateResult> Evaluate(IReadOnlyList<CandidateWork> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0) yield break;
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var job = new Job(batch.Count, abandon.Token);
        var items = batch.Select(w => Order(job, w)).ToList();
        lock (_lock)
        {
            _incoming.Add(items);
            _arrived.TrySetResult();
            _dispatcher ??= Task.Run(DispatchLoop, CancellationToken.None);
        }
        try
        {
            foreach (var result in job.Results.GetConsumingEnumerable(CancellationToken.None)) yield return result;
            if (job.Failure is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
        finally { abandon.Cancel(); }   // a caller that stops early leaves nothing queued behind it
    }

    async Task DispatchLoop()
    {
        var pending = new LinkedList<Item>();
        var running = new List<Running>();
        double waitingSince = _clock.Elapsed.TotalSeconds;
        string? message = null;
        while (true)
        {
            Task arrived;
            bool batchAfterBarrier;
            lock (_lock)
            {
                bool fresh = pending.Count == 0 && running.Count == 0;
                foreach (var items in _incoming)
                    foreach (var item in items) pending.AddLast(item);
                bool took = _incoming.Count > 0;
                _incoming.Clear();
                if (pending.Count == 0 && running.Count == 0)
                {
                    _dispatcher = null;
                    Report(0, 0, message);
                    return;
                }
                if (_arrived.Task.IsCompleted) _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
                arrived = _arrived.Task;
                batchAfterBarrier = took && fresh;
                if (batchAfterBarrier) waitingSince = _clock.Elapsed.TotalSeconds;
            }
            DropAbandoned(pending);
            if (DateTime.UtcNow - _lastPoll >= _options.MembershipPoll || Usable().All(w => w.Refused))
                message = await Poll(running, pending) ?? message;
            if (batchAfterBarrier) message = SplitTail(pending) ?? message;
            message = SplitForIdleSlots(pending, running) ?? message;

            foreach (var (worker, slot) in FreeSlots(running))
            {
                if (pending.First is not { } first) break;
                pending.RemoveFirst();
                running.Add(Send(worker, slot, first.Value));
            }
            if (running.Count > 0 || pending.Count == 0) waitingSince = _clock.Elapsed.TotalSeconds;
            else if (_clock.Elapsed.TotalSeconds - waitingSince > _options.WaitForWorkers.TotalSeconds)
            {
                var failure = new EvoMergeException(NoWorkerMessage());
                foreach (var job in pending.Select(i => i.Job).Distinct().ToList()) Fail(job, failure, pending);
                continue;
            }
            Report(pending.Count, running.Count, message);

            await Task.WhenAny([.. running.Select(r => (Task)r.Reply), arrived, Task.Delay(_options.MembershipPoll)]);
            Track(running);
            foreach (var r in running.Where(r => r.Reply.IsCompleted || Lost(r)).ToList())
            {
                running.Remove(r);
                r.Worker.BusySeconds += _clock.Elapsed.TotalSeconds - r.Started;
                r.Worker.Work[r.Slot] = null;
                if (r.Reply.IsCompletedSuccessfully) r.Worker.LastSeen = DateTime.UtcNow;
                var item = r.Item;
                if (item.Job.Finished || item.Done) continue;   // its caller has gone, or a late duplicate
                if (!r.Reply.IsCompleted)
                {
                    // The slot does not have this work although the call is open: the call was lost. Send it again.
                    pending.AddFirst(item);
                    message = $"a call to worker {r.Worker.Info.Name} was lost; its work is sent again";
                    continue;
                }
                if (!r.Reply.IsCompletedSuccessfully)
                {
                    // The call was lost (the silo died or the connection broke): send the work again, elsewhere if need be.
                    int n = _attempts[item.Key] = _attempts.GetValueOrDefault(item.Key) + 1;
                    if (n >= _options.MaxAttempts)
                    {
                        Fail(item.Job, new EvoMergeException($"work {item.Key} was lost {n} times on failing workers; last: {r.Reply.Exception?.GetBaseException().Message}"), pending);
                        continue;
                    }
                    pending.AddFirst(item);
                    r.Worker.SuspectSince = _clock.Elapsed.TotalSeconds;
                    _lastPoll = DateTime.MinValue;
                    continue;
                }
                var reply = r.Reply.Result;
                if (reply.Error is { } error)
                {
                    Fail(item.Job, new EvoMergeException(error), pending);
                    continue;
                }
                if (reply.Refusal is { } refusal)
                {
                    r.Worker.Refused = true;
                    message = refusal;
                    pending.AddFirst(item);
                    continue;
                }
                item.Done = true;
                r.Worker.Results++;
                r.Worker.Candidates += 1.0 / (item.Of?.Parts.Length ?? 1);
                var result = WorkWire.DecodeResult(reply.ResultJson!, item.Work.Key);
                _buildSeconds += result.BuildSeconds;
                _scoreSeconds += result.ScoreSeconds;
                Deliver(item, result);
            }
        }
    }

    readonly Dictionary<string, int> _attempts = new();

    /// <summary>Hands a result to its caller: a whole candidate's at once, a part's once every part of it is in.</summary>
    void Deliver(Item item, CandidateResult result)
    {
        if (item.Of is { } whole)
        {
            whole.Parts[item.Part] = result;
            if (whole.Parts.Any(p => p is null)) return;
            try { result = ItemParts.Combine(whole.Work.Key, whole.Parts!); }
            catch (InvalidOperationException e)
            {
                Fail(item.Job, new EvoMergeException($"the parts of a candidate could not be put together: {e.Message}"), null);
                return;
            }
        }
        item.Job.Results.Add(result);
        if (--item.Job.Outstanding == 0) item.Job.Results.CompleteAdding();
    }

    static void Fail(Job job, Exception failure, LinkedList<Item>? pending)
    {
        if (!job.Finished)
        {
            job.Failure = failure;
            job.Results.CompleteAdding();
        }
        if (pending is null) return;
        for (var node = pending.First; node != null;)
        {
            var next = node.Next;
            if (node.Value.Job == job) pending.Remove(node);
            node = next;
        }
    }

    /// <summary>Work whose caller stopped listening (cancelled, or failed on another item) is not sent.</summary>
    static void DropAbandoned(LinkedList<Item> pending)
    {
        foreach (var job in pending.Select(i => i.Job).Distinct().Where(j => j.Cancellation.IsCancellationRequested || j.Finished).ToList())
            Fail(job, new OperationCanceledException(job.Cancellation), pending);
    }

    /// <summary>
    /// A fresh batch (nothing else queued or running: a generation after its barrier): if its last round would leave
    /// slots empty, the candidates of that round are cut into parts.
    /// </summary>
    string? SplitTail(LinkedList<Item> pending)
    {
        int slots = UsableSlots();
        if (!_options.SplitItems || slots < 2 || pending.Count <= slots) return null;
        int last = pending.Count % slots;
        if (last == 0) return null;
        var tail = pending.Skip(pending.Count - last).ToList();
        return Cut(pending, tail.Where(Splittable).ToList(), room: slots - tail.Count(i => !Splittable(i)));
    }

    /// <summary>Whenever all queued work fits in the free slots with some left over, whole candidates are cut to fill them.</summary>
    string? SplitForIdleSlots(LinkedList<Item> pending, List<Running> running)
    {
        int slots = UsableSlots();
        if (!_options.SplitItems || slots < 2 || pending.Count == 0 || pending.Count + running.Count >= slots) return null;
        var wholes = pending.Where(Splittable).ToList();
        return Cut(pending, wholes, room: slots - running.Count - (pending.Count - wholes.Count));
    }

    bool Splittable(Item item) => item.Of is null && item.Items is not null && ItemParts.MaxParts(item.Items, _options.ItemAlign) > 1;

    string? Cut(LinkedList<Item> pending, List<Item> candidates, int room)
    {
        if (candidates.Count == 0 || room < 2) return null;
        int cap = candidates.Max(c => ItemParts.MaxParts(c.Items!, _options.ItemAlign));
        double total = _buildSeconds + _scoreSeconds;
        int m = PartPlan.PartsPerCandidate(candidates.Count, room, cap, total > 0 ? _buildSeconds / total : AssumedBuildShare);
        if (m < 2) return null;
        int cut = 0;
        foreach (var item in candidates)
        {
            int parts = Math.Min(m, ItemParts.MaxParts(item.Items!, _options.ItemAlign));
            if (parts < 2) continue;
            cut++;
            var node = pending.Find(item)!;
            var whole = new Whole(item.Work, parts);
            foreach (var (piece, j) in ItemParts.Split(item.Work, item.Items!, parts, _options.ItemAlign).Select((p, j) => (p, j)))
                pending.AddBefore(node, new Item(item.Job, piece, OrderOf(piece), whole, j));
            pending.Remove(node);
            Interlocked.Increment(ref _splitCandidates);
        }
        return $"{cut} candidate(s) cut into up to {m} parts each for {room} free slot(s)";
    }

    /// <summary>Asks the slot of every call quiet for <see cref="CheckAfter"/> whether it still has the work.</summary>
    void Track(List<Running> running)
    {
        double now = _clock.Elapsed.TotalSeconds;
        foreach (var r in running)
        {
            if (r.Check is { IsCompletedSuccessfully: true } done && done.Result == "running")
            {
                (r.Confirmed, r.Check) = (now, null);
                r.Worker.LastSeen = DateTime.UtcNow;
            }
            else if (r.Check is { IsFaulted: true }) r.Check = null;   // unreachable for now: membership decides
            if (r.Check is null && !r.Reply.IsCompleted && now - r.Confirmed > CheckAfter.TotalSeconds)
            {
                var grain = client.GetGrain<IEvaluatorGrain>(SlotKey(r.Worker.Silo, r.Slot));
                r.Check = OnSilo(r.Worker.Silo, () => grain.Track(r.Item.Key));
            }
        }
    }

    /// <summary>The slot answered that it neither scores this work nor has its result... or has it, and the reply was lost.</summary>
    static bool Lost(Running r) => !r.Reply.IsCompleted && r.Check is { IsCompletedSuccessfully: true } check && check.Result != "running";

    Item Order(Job job, CandidateWork work) => new(job, work, OrderOf(work)) { Items = ItemsOf(work) };

    WorkOrder OrderOf(CandidateWork work)
    {
        string json = WorkWire.Encode(work);
        var paths = work.Build.SourceModels
            .Concat(work.Tasks.SelectMany(t => (string?[])[t.Spec.DataPath, t.Spec.ExemplarsPath]).OfType<string>())
            .Distinct();
        var fingerprints = paths.ToDictionary(p => p, p => _fingerprints.GetOrAdd(p, SourceFingerprint.Of));
        return new WorkOrder(WorkWire.KeyOf(json), json, fingerprints);
    }

    /// <summary>
    /// Each task's items in scoring order, counted from the driver's own copy of its data; null when a task cannot be
    /// split (<see cref="ItemParts.CanSplit"/>) or its data does not load here (the worker then reports why).
    /// </summary>
    int[][]? ItemsOf(CandidateWork work)
    {
        if (!_options.SplitItems) return null;
        var items = new int[work.Tasks.Count][];
        for (int t = 0; t < items.Length; t++)
        {
            var task = work.Tasks[t];
            if (!ItemParts.CanSplit(task.Spec.Kind) || _itemCounts.GetOrAdd(task.Spec, CountItems) is not int count) return null;
            try { items[t] = task.Subset.Resolve(count); }
            catch (EvoMergeException) { return null; }
        }
        return items;
    }

    static int? CountItems(EvalTaskSpec spec)
    {
        try { return EvalTasks.Create(spec).Count; }
        catch (Exception e) when (e is EvoMergeException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException) { return null; }
    }

    Running Send(Worker worker, int slot, Item item)
    {
        var grain = client.GetGrain<IEvaluatorGrain>(SlotKey(worker.Silo, slot));
        worker.Work[slot] = item.Key;
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

    bool Resting(Worker w) => w.SuspectSince is double t && _clock.Elapsed.TotalSeconds - t < SuspectPause.TotalSeconds;

    int UsableSlots() => Usable().Where(w => !w.Refused && !Resting(w)).Sum(w => w.Info.Slots);

    IEnumerable<(Worker, int)> FreeSlots(List<Running> running) =>
        Usable().Where(w => !w.Refused && !Resting(w)).OrderBy(w => w.Since)
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
                worker.Work[r.Slot] = null;
                worker.BusySeconds += _clock.Elapsed.TotalSeconds - r.Started;
                if (!r.Item.Job.Finished && !r.Item.Done) pending.AddFirst(r.Item);
            }
            messages.Add($"worker {worker.Info.Name} died; its work goes to the others");
        }
        foreach (var worker in _workers.Values.Where(w => hosts.ContainsKey(w.Silo))) worker.LastSeen = DateTime.UtcNow;
        foreach (var silo in hosts.Keys.Where(s => !_workers.ContainsKey(s)))
        {
            try
            {
                var grain = client.GetGrain<IEvaluatorGrain>(SlotKey(silo, 0));
                var info = await OnSilo(silo, grain.Describe).WaitAsync(TimeSpan.FromSeconds(30));
                _workers[silo] = new Worker(silo, info, _clock.Elapsed.TotalSeconds);
                messages.Add($"worker {info.Name} joined with {info.Slots} slot(s)");
                if (_options.SplitItems && info.BatchSize > 0 && info.BatchSize != _options.ItemAlign)
                    messages.Add($"worker {info.Name} scores {info.BatchSize} prompts per batch, the driver cuts parts at multiples of " +
                        $"{_options.ItemAlign}: give both the same --batch-size for results equal to one process");
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
        var work = w.Work.OfType<string>().ToList();
        string state = w.Dead ? "dead" : w.Refused ? "refused" : Resting(w) ? "suspect" : work.Count > 0 ? "busy" : "idle";
        return new WorkerStatus(w.Info.Name, w.Silo.ToString(), w.Info.Slots, state, w.Results, w.Candidates,
            known > 0 ? w.Candidates / known : 0, w.BusySeconds, known * w.Info.Slots, work, w.LastSeen);
    }

    void Report(int pending, int running, string? message) =>
        status?.Report(new ClusterStatus(DateTime.UtcNow, Workers, pending, running, message));
}
