using Smc.Testing;

namespace Smc.Integration.Tests.Infrastructure;

/// <summary>A real smc-control process against a given storage, with short heartbeat settings for tests.</summary>
internal sealed class ControlPlane : IDisposable
{
    public const string OperatorKey = "op.integration-test-operator-key";
    public const int HeartbeatRateSeconds = 2;

    private ControlPlane(ChildProcess process, string url)
    {
        Process = process;
        Url = url;
    }

    public ChildProcess Process { get; }

    /// <summary>The host process's resident memory now (VmRSS of /proc/PID/status), in bytes.</summary>
    public long ResidentBytes()
    {
        string line = File.ReadLines($"/proc/{Process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    public string Url { get; }

    /// <param name="settings">Settings (SMC_… environment variables) that replace the tests' defaults.</param>
    public static async Task<ControlPlane> StartAsync(string connectionString, string? operatorKey = OperatorKey, string? urlOverride = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        if (!File.Exists(Repo.ControlDll))
        {
            throw new InvalidOperationException($"{Repo.ControlDll} is missing: build the solution first (scripts/test.sh does).");
        }

        string url = urlOverride ?? $"http://127.0.0.1:{FreePort.Next()}";
        var env = new Dictionary<string, string>
        {
            ["SMC_STORAGE__CONNECTIONSTRING"] = connectionString,
            ["SMC_CONTROL__HEARTBEATRATESECONDS"] = HeartbeatRateSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SMC_CONTROL__SOURCERECHECKSECONDS"] = "3",
            ["SMC_CONTROL__MINSYNCINTERVALSECONDS"] = "5",
            ["SMC_DURABLE__MAXQUEUEPOLLINGSECONDS"] = "0.2",
            ["SMC_DURABLE__MESSAGEVISIBILITYSECONDS"] = "10",
            ["SMC_DURABLE__LEASESECONDS"] = "6", // a killed host's partitions come free in 6 s, not 30
            // No spare job key pairs: each host would make 16 at start (~0.8 s of a core each) beside the other tests.
            // JobKeySpareTests covers the spares.
            ["SMC_SECURITY__JOBKEYSPARES"] = "0",
            // One control queue, not four: an idle host polls each queue and renews its lease, and its Azurite answers
            // (measured idle over 40 s: Azurite 246/271 ticks with one, ~400 with four; the host ~100 against ~145). Tests
            // of work spread over hosts set 4 (DurabilityTests.TwoHosts_OneStorage_BothProcessWork).
            ["SMC_DURABLE__PARTITIONCOUNT"] = "1",
        };
        if (operatorKey is not null)
        {
            env["SMC_ADMIN_KEY"] = operatorKey;
        }

        foreach ((string name, string value) in settings ?? new Dictionary<string, string>())
        {
            env[name] = value;
        }

        ChildProcess process = ChildProcess.Start("dotnet", [Repo.ControlDll, "--urls", url], env);
        await process.WaitForLineAsync("smc-control listening on", TimeSpan.FromSeconds(90));
        return new ControlPlane(process, url);
    }

    public ApiClient Operator() => new(Url, operatorKey: OperatorKey);

    public ApiClient Anonymous() => new(Url);

    public ApiClient Agent(string credential) => new(Url, bearer: credential);

    public void Dispose() => Process.Dispose();
}
