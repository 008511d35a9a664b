using System.Collections.Concurrent;
using EvoMerge.Candidates;
using EvoMerge.Cluster;
using EvoMerge.Cluster.Worker;
using EvoMerge.Tests.Evolution;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace EvoMerge.Cluster.Tests;

/// <summary>
/// The worker side of the in-process clusters: every silo hosts <see cref="Slots"/> slots, each running the core tests' deterministic
/// <see cref="FakeEvaluator"/>, slowed down so that work is in flight when a test kills or adds a silo, and counted
/// per work content across all silos (they share this process).
/// </summary>
static class FakeWorkers
{
    public static TimeSpan Delay = TimeSpan.FromMilliseconds(100);
    public static int Slots = 1;
    /// <summary>Makes each slot's evaluator (the core tests' <see cref="FakeEvaluator"/> unless a test says otherwise).</summary>
    public static Func<ICandidateEvaluator> Inner = () => new FakeEvaluator();
    /// <summary>Workers (by name) that see different files than the driver.</summary>
    public static Func<string, bool> Tampered = _ => false;
    /// <summary>Evaluations started, per work content.</summary>
    public static readonly ConcurrentDictionary<string, int> Scored = new();
    /// <summary>The worker (by name) whose next evaluations hang until the test ends or <see cref="Release"/>, and whether one has begun.</summary>
    public static volatile string? Stall;
    public static volatile bool Stalling;
    /// <summary>While set, the next evaluation to start on any worker hangs (and clears it); <see cref="Stalled"/> is its build.</summary>
    public static volatile bool StallNext;
    public static volatile ModelBuild? Stalled;
    /// <summary>While set, evaluations wait before they start (a test holds the run while a silo joins).</summary>
    public static volatile bool Hold;
    static CancellationTokenSource _release = new();
    static int _silos;

    public static void Reset(TimeSpan delay, int slots = 1, Func<ICandidateEvaluator>? inner = null)
    {
        (Delay, Tampered, Slots, Stall, Stalling, Hold, StallNext, Stalled) = (delay, _ => false, slots, null, false, false, false, null);
        Inner = inner ?? (() => new FakeEvaluator());
        _release.Cancel();   // frees the hung evaluations of an earlier test
        _release = new CancellationTokenSource();
        Scored.Clear();
    }

    /// <summary>Frees every hung evaluation; later ones run normally.</summary>
    public static void Release()
    {
        Stall = null;
        var old = _release;
        _release = new CancellationTokenSource();
        old.Cancel();
    }

    static readonly object StallGate = new();

    public static WorkerOptions Options()
    {
        string name = $"fake-{Interlocked.Increment(ref _silos)}";
        return new WorkerOptions(name, Slots, _ => new Slowed(name, Inner()),
            path => Tampered(name) ? "model:tampered" : SourceFingerprint.Of(path));
    }

    public static async Task<TestCluster> Start(int silos)
    {
        var builder = new TestClusterBuilder((short)silos);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            silo.Configure<ClusterMembershipOptions>(ClusterSpec.FastFailureDetection);
            silo.AddEvoMergeWorker(Options());
        }
    }

    sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(Microsoft.Extensions.Configuration.IConfiguration configuration, IClientBuilder client) =>
            ClusterSpec.ConfigureClientTimeouts(client);
    }

    sealed class Slowed(string name, ICandidateEvaluator inner) : ICandidateEvaluator
    {
        public int LayerCount(string model) => inner.LayerCount(model);

        public IEnumerable<CandidateResult> Evaluate(IReadOnlyList<CandidateWork> batch, CancellationToken cancellationToken)
        {
            foreach (var work in batch)
            {
                Scored.AddOrUpdate(WorkWire.Encode(work), 1, (_, n) => n + 1);
                bool stallThis = name == Stall;
                lock (StallGate)
                    if (StallNext) (StallNext, stallThis, Stalled) = (false, true, work.Build);
                if (stallThis)
                {
                    var release = _release.Token;
                    Stalling = true;
                    release.WaitHandle.WaitOne();
                }
                else
                {
                    while (Hold) Thread.Sleep(5);
                    Thread.Sleep(Delay);
                }
                yield return inner.Evaluate([work], cancellationToken).Single();
            }
        }

        public void WriteModel(ModelBuild build, string folder, CancellationToken cancellationToken) => inner.WriteModel(build, folder, cancellationToken);
    }
}
