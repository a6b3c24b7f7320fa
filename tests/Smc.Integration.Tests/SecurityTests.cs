using System.Net;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// Issue 16, read as an attacker holding one source's agent credential: it can't name where the operator's registry
/// login goes, and it can't reach another source's jobs through any agent route.
/// </summary>
public sealed class SecurityTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    /// <summary>
    /// The registry is the operator's choice: a host with user info (whose real host is the attacker's) is refused as
    /// malformed, a well-formed host the operator didn't allow is forbidden — from the agent route and the operator's —
    /// and neither leaves a job behind.
    /// </summary>
    [Theory]
    [InlineData("registry.cn-hangzhou.aliyuncs.com:443@attacker.example", HttpStatusCode.BadRequest, "InvalidParameter.ContainerRegistry")]
    [InlineData("https://registry.example/v2", HttpStatusCode.BadRequest, "InvalidParameter.ContainerRegistry")]
    [InlineData("registry.example:99999", HttpStatusCode.BadRequest, "InvalidParameter.ContainerRegistry")]
    [InlineData("attacker.example:5000", HttpStatusCode.Forbidden, "Forbidden.ContainerRegistry")]
    [InlineData("registry.cn-hangzhou.aliyuncs.com", HttpStatusCode.Forbidden, "Forbidden.ContainerRegistry")] // no Alibaba key configured here
    public async Task JobNamingARegistryTheOperatorDidNotAllow_IsRefusedAndNothingIsStored(string registry, HttpStatusCode status, string code)
    {
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(fx.Control, seed: 160);
        ApiClient op = fx.Control.Operator();
        var job = new
        {
            name = "exfiltrate",
            targetType = "ContainerImage",
            containerNamespace = "ns",
            containerRepository = "repo",
            containerTag = "v1",
            containerRegistry = registry,
        };
        (await agent.Agent.PostAsync("/api/v1/agent/jobs", job)).ExpectProblem(status, code);
        (await op.PostAsync("/api/v1/replication-jobs", new { sourceId = agent.SourceId, job.name, job.targetType, job.containerNamespace, job.containerRepository, job.containerTag, job.containerRegistry }))
            .ExpectProblem(status, code);
        JsonNode listed = (await op.GetAsync($"/api/v1/replication-jobs?sourceId={agent.SourceId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal(0, listed["totalCount"]!.GetValue<int>());
    }

    /// <summary>
    /// Every agent route of the OpenAPI document that names a job, called with source A's credential for source B's job:
    /// 403 or 404, never a success and never B's data.
    /// </summary>
    [Fact]
    public async Task AgentOfSourceA_GetsNothingOfSourceBsJob_OnEveryAgentRoute()
    {
        ProtocolAgent a = await ProtocolAgent.RegisterAsync(fx.Control, seed: 161);
        ProtocolAgent b = await ProtocolAgent.RegisterAsync(fx.Control, seed: 162);
        await b.StartJobAsync();
        JsonNode doc = (await new ApiClient(fx.Control.Url).GetAsync("/api/v1/openapi.json")).Expect(HttpStatusCode.OK).Json;
        int checkedRoutes = 0;
        foreach ((string path, JsonNode? item) in doc["paths"]!.AsObject())
        {
            if (!path.Contains("{id}", StringComparison.Ordinal))
            {
                continue;
            }

            foreach ((string method, JsonNode? operation) in item!.AsObject())
            {
                bool agentRoute = operation!["security"]?.AsArray().Any(s => s!.AsObject().ContainsKey("agentCredential")) == true;
                if (!agentRoute)
                {
                    continue;
                }

                string concrete = path.Replace("{id}", b.JobId, StringComparison.Ordinal).Replace("{round}", "0", StringComparison.Ordinal).Replace("{index}", "0", StringComparison.Ordinal);
                Reply reply = await a.Agent.SendAsync(new HttpMethod(method.ToUpperInvariant()), "/api" + concrete, method == "get" ? null : new { }); // the document's server is /api
                Assert.True(reply.Status is HttpStatusCode.Forbidden or HttpStatusCode.NotFound, $"{method.ToUpperInvariant()} {path} as another source's agent: {(int)reply.Status} {reply.Body}");
                Assert.DoesNotContain(b.SourceId, reply.Body, StringComparison.Ordinal);
                checkedRoutes++;
            }
        }

        Assert.True(checkedRoutes >= 7, $"only {checkedRoutes} agent routes name a job");
    }

    /// <summary>
    /// A container round's spool is a plaintext copy of the root file system. A stale one left world-readable by an earlier
    /// agent (a round that is no longer pending) is swept at start; the state directory becomes 0700; after a container
    /// round every file the agent wrote there is 0600 and no spool is left.
    /// </summary>
    [Fact]
    public async Task StateDirectory_IsPrivate_StaleSpoolsAreSwept_NoSpoolOutlivesItsRound()
    {
        string root = fx.Box.File("private-root");
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        await File.WriteAllTextAsync(Path.Combine(root, "etc/shadow"), "root:$6$secret:19000:0:99999:7:::\n");
        ApiClient op = fx.Control.Operator();
        var (_, code) = await Flows.NewTokenAsync(op);
        var (sourceId, config) = Flows.RegisterAgentWithRoot(fx.Control, fx.Box, code, root, SampleDisks.Gpt(fx.Box, "private-src.img"));
        string state = Path.Combine(Path.GetDirectoryName(config)!, "state");
        Directory.CreateDirectory(state);
        File.SetUnixFileMode(state, (UnixFileMode)0b111_101_101);
        string stale = Path.Combine(state, "j-0123456789abcdef-r3.tar"), stalePartial = Path.Combine(state, "j-0123456789abcdef-r4.tar.partial"), other = Path.Combine(state, "notes.txt");
        foreach (string f in new[] { stale, stalePartial, other })
        {
            await File.WriteAllTextAsync(f, "root:$6$secret");
            File.SetUnixFileMode(f, (UnixFileMode)0b110_100_100);
        }

        using ChildProcess agent = Agent.Start("run", "--config", config);
        await agent.WaitForLineAsync("removed j-0123456789abcdef-r4.tar.partial", TimeSpan.FromSeconds(60));
        Assert.False(File.Exists(stale) || File.Exists(stalePartial), "a stale spool survived the agent's start");
        Assert.True(File.Exists(other), "the sweep removed a file that is not a spool");
        Assert.Equal((UnixFileMode)0b111_000_000, File.GetUnixFileMode(state));

        string jobId = await Flows.NewJobAsync(op, sourceId, new { targetType = "ContainerImage", containerNamespace = "team", containerRepository = "private", containerTag = "v1" });
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(180));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString());
        string[] written = [.. Directory.GetFiles(state).Where(f => f != other)];
        Assert.NotEmpty(written);
        Assert.All(written, f => Assert.True(File.GetUnixFileMode(f) == (UnixFileMode)0b110_000_000, $"{Path.GetFileName(f)} is {File.GetUnixFileMode(f)}"));
        Assert.DoesNotContain(written, f => f.EndsWith(".tar", StringComparison.Ordinal) || f.EndsWith(".partial", StringComparison.Ordinal));
        Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(config));
    }

    /// <summary>A heartbeat replaces the source's inventory, so it gets registration's checks: a lying one is 400 and changes nothing.</summary>
    [Fact]
    public async Task Heartbeat_WithAnInventoryRegistrationWouldRefuse_Is400AndChangesNothing()
    {
        ProtocolAgent agent = await ProtocolAgent.RegisterAsync(fx.Control, seed: 163);
        ApiClient op = fx.Control.Operator();
        string before = (await op.GetAsync($"/api/v1/source-servers/{agent.SourceId}")).Expect(HttpStatusCode.OK).Json["disks"]!.ToJsonString();
        object[] lies =
        [
            new { agentVersion = "x", disks = Enumerable.Range(0, 65).Select(i => new { device = $"/dev/vd{i}", sizeBytes = 1 << 20, partitionTable = "none", parts = Array.Empty<object>() }) },
            new { agentVersion = "x", disks = new[] { new { device = "/dev/vdz", sizeBytes = 1 << 20, partitionTable = "gpt", parts = new[] { new { number = 1, device = "/dev/vdz1", startBytes = 1L << 40, sizeBytes = 1 << 20 } } } } },
            new { agentVersion = "x", disks = new[] { new { device = "", sizeBytes = 1 << 20, partitionTable = "none", parts = Array.Empty<object>() } } },
            new { agentVersion = "x", systemInfo = new { hostname = new string('h', 300) } },
        ];
        foreach (object lie in lies)
        {
            (await agent.Agent.PostAsync("/api/v1/agent/heartbeat", lie)).ExpectProblem(HttpStatusCode.BadRequest, "InvalidParameter.AgentInfo");
        }

        Assert.Equal(before, (await op.GetAsync($"/api/v1/source-servers/{agent.SourceId}")).Expect(HttpStatusCode.OK).Json["disks"]!.ToJsonString());
    }
}
