using System.Net;
using System.Text.Json.Nodes;

namespace Smc.Integration.Tests.Infrastructure;

/// <summary>Steps many tests share: make an activation code, register a source through the real agent.</summary>
internal static class Flows
{
    private static readonly System.Text.Json.JsonSerializerOptions WebJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    public static async Task<(string Id, string Code)> NewTokenAsync(ApiClient op, int count = 10, int ttl = 30)
    {
        JsonNode created = (await op.PostAsync("/api/v1/access-tokens", new { name = "test-" + Guid.NewGuid().ToString("N")[..6], count, timeToLiveInDays = ttl }))
            .Expect(HttpStatusCode.Created).Json;
        return (created["accessTokenId"]!.GetValue<string>(), created["accessTokenCode"]!.GetValue<string>());
    }

    /// <summary>Registers a source over HTTP as an agent would (no agent process: for tests of many sources); returns its id.</summary>
    /// <param name="withDisk">
    /// One 4 MiB disk, so a started job stays Running (it waits for an agent that never comes); without disks a
    /// started job ends InError (SourceNoDisks) at once.
    /// </param>
    public static async Task<string> RegisterSourceOverHttpAsync(ControlPlane control, string code, string name, bool withDisk = false) =>
        (await new ApiClient(control.Url, bearer: code).PostAsync("/api/v1/agent/register", new
        {
            name,
            agentVersion = "0.0.0-test",
            platform = "Linux",
            architecture = "x86_64",
            systemInfo = new { hostname = name },
            disks = withDisk ? new object[] { new { device = "/dev/vdz", sizeBytes = 4 << 20, partitionTable = "none", parts = Array.Empty<object>() } } : [],
        })).Expect(HttpStatusCode.Created).Json["sourceId"]!.GetValue<string>();

    /// <summary>Registers through <c>smc-agent register</c>; returns the source id and the agent's config path.</summary>
    public static (string SourceId, string ConfigPath) RegisterAgent(ControlPlane control, Sandbox box, string code, params string[] disks) =>
        RegisterAgentWithRoot(control, box, code, null, disks);

    /// <summary>Registers an agent whose container rounds capture <paramref name="root"/> (smc-agent register --root).</summary>
    public static (string SourceId, string ConfigPath) RegisterAgentWithRoot(ControlPlane control, Sandbox box, string code, string? root, params string[] disks)
    {
        string config = box.File($"agent-{Guid.NewGuid():N}.json");
        var args = new List<string> { "register", "--server", control.Url, "--code", code, "--config", config };
        if (root is not null)
        {
            args.Add("--root");
            args.Add(root);
        }

        foreach (string d in disks)
        {
            args.Add("--disk");
            args.Add(d);
        }

        var (exit, stdout, stderr) = Agent.Run([.. args]);
        Assert.True(exit == 0, $"smc-agent register exited {exit}: {stdout}{stderr}");
        JsonNode saved = JsonNode.Parse(File.ReadAllText(config))!;
        return (saved["sourceId"]!.GetValue<string>(), config);
    }

    public static string Credential(string configPath) =>
        JsonNode.Parse(File.ReadAllText(configPath))!["credential"]!.GetValue<string>();

    /// <summary>A new activation code, an agent registered with it for <paramref name="disk"/>, and a job for that source (not started).</summary>
    public static async Task<(string SourceId, string Config, string JobId)> SourceWithJobAsync(ControlPlane control, Sandbox box, string disk, object? job = null)
    {
        ApiClient op = control.Operator();
        var (_, code) = await NewTokenAsync(op);
        var (sourceId, config) = RegisterAgent(control, box, code, disk);
        return (sourceId, config, await NewJobAsync(op, sourceId, job));
    }

    public static async Task<string> NewJobAsync(ApiClient op, string sourceId, object? extra = null)
    {
        var body = new JsonObject { ["sourceId"] = sourceId, ["name"] = "job-" + Guid.NewGuid().ToString("N")[..6] };
        if (extra is not null)
        {
            foreach (var kv in System.Text.Json.JsonSerializer.SerializeToNode(extra, WebJson)!.AsObject())
            {
                body[kv.Key] = kv.Value?.DeepClone();
            }
        }

        return (await op.PostAsync("/api/v1/replication-jobs", body.ToJsonString())).Expect(HttpStatusCode.Created).Json["jobId"]!.GetValue<string>();
    }
}
