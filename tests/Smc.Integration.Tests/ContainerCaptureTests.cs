using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;

namespace Smc.Integration.Tests;

/// <summary>
/// A ContainerImage round end to end as far as it goes today (issue 6): the agent captures the source's root tree file
/// by file into one tar, sends it through the same chunk/seal/upload pipeline, and the control plane's image of the
/// round is that tar — unpacked by GNU tar it equals the source tree. The registry push comes next.
/// </summary>
public sealed class ContainerCaptureTests(ControlPlaneFixture fx) : IClassFixture<ControlPlaneFixture>
{
    [Fact]
    public async Task ContainerRound_CapturesTheRootTree_TheRoundsImageIsItsTar()
    {
        string root = fx.Box.File("container-root");
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        Directory.CreateDirectory(Path.Combine(root, "usr/bin"));
        Directory.CreateDirectory(Path.Combine(root, "proc/1"));
        Directory.CreateDirectory(Path.Combine(root, "srv"));
        await File.WriteAllTextAsync(Path.Combine(root, "etc/hostname"), "web-01\n");
        await File.WriteAllTextAsync(Path.Combine(root, "proc/1/status"), "volatile");
        await File.WriteAllTextAsync(Path.Combine(root, "usr/bin/app"), "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(Path.Combine(root, "usr/bin/app"), (UnixFileMode)0b111_101_101);
        byte[] big = new byte[20 << 20];
        new Random(11).NextBytes(big);
        await File.WriteAllBytesAsync(Path.Combine(root, "srv/big.bin"), big);
        Run("ln", Path.Combine(root, "srv/big.bin"), Path.Combine(root, "srv/big-link.bin"));
        File.CreateSymbolicLink(Path.Combine(root, "usr/bin/run"), "app");
        Run("chown", "1234:2345", Path.Combine(root, "etc/hostname"));
        Run("setfattr", "-n", "user.smc.role", "-v", "frontend", Path.Combine(root, "etc/hostname"));

        ApiClient op = fx.Control.Operator();
        var (_, code) = await Flows.NewTokenAsync(op);
        var (sourceId, config) = Flows.RegisterAgentWithRoot(fx.Control, fx.Box, code, root, SampleDisks.Gpt(fx.Box, "container-src.img"));
        string jobId = await Flows.NewJobAsync(op, sourceId, new { targetType = "ContainerImage", containerNamespace = "team", containerRepository = "web", containerTag = "v1" });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(180));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString());
        Assert.Contains(agent.Lines, l => l.Contains("captured " + root, StringComparison.Ordinal));

        string tar = Path.Combine(fx.Box.Root, "container.tar");
        await DiskFiles.DownloadAsync(fx.Control, $"/api/v1/images/{job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>()}/disks/0", tar);
        string unpacked = fx.Box.File("container-unpacked");
        Directory.CreateDirectory(unpacked);
        Run("tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf", tar, "-C", unpacked);

        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(unpacked, "proc")));
        foreach (string rel in new[] { "etc/hostname", "usr/bin/app", "srv/big.bin", "srv/big-link.bin" })
        {
            Assert.Equal(Hash(Path.Combine(root, rel)), Hash(Path.Combine(unpacked, rel)));
            Assert.Equal(File.GetUnixFileMode(Path.Combine(root, rel)), File.GetUnixFileMode(Path.Combine(unpacked, rel)));
        }

        Assert.Equal("app", new FileInfo(Path.Combine(unpacked, "usr/bin/run")).LinkTarget);
        Assert.Equal("1234 2345", Run("stat", "-c", "%u %g", Path.Combine(unpacked, "etc/hostname")).Trim());
        Assert.Equal("frontend", Run("getfattr", "--only-values", "-n", "user.smc.role", Path.Combine(unpacked, "etc/hostname")));
        Assert.Equal(Run("stat", "-c", "%i", Path.Combine(unpacked, "srv/big.bin")), Run("stat", "-c", "%i", Path.Combine(unpacked, "srv/big-link.bin")));
    }

    [Fact]
    public async Task ContainerJob_WithARegistry_PushesTheTreeAsALayer_SkopeoReadsTheConfigAndTheSameTree()
    {
        await using Smc.Registry.Tests.DockerRegistry registry = await Smc.Registry.Tests.DockerRegistry.StartAsync(("smc", "push-secret"));
        using Azurite azurite = await Azurite.StartAsync();
        using ControlPlane control = await ControlPlane.StartAsync(azurite.ConnectionString, settings: new Dictionary<string, string>
        {
            ["SMC_REGISTRY__INSECURE"] = registry.Host,
            ["SMC_REGISTRY__USERNAME"] = "smc",
            ["SMC_REGISTRY__PASSWORD"] = "push-secret",
        });
        string root = fx.Box.File("push-root");
        Directory.CreateDirectory(Path.Combine(root, "etc"));
        Directory.CreateDirectory(Path.Combine(root, "usr/bin"));
        await File.WriteAllTextAsync(Path.Combine(root, "etc/hostname"), "web-02\n");
        await File.WriteAllTextAsync(Path.Combine(root, "usr/bin/app"), "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(Path.Combine(root, "usr/bin/app"), (UnixFileMode)0b111_101_101);
        File.CreateSymbolicLink(Path.Combine(root, "usr/bin/run"), "app");
        Run("chown", "1234:2345", Path.Combine(root, "etc/hostname"));

        ApiClient op = control.Operator();
        var (_, code) = await Flows.NewTokenAsync(op);
        var (sourceId, config) = Flows.RegisterAgentWithRoot(control, fx.Box, code, root, SampleDisks.Gpt(fx.Box, "push-src.img"));
        string jobId = await Flows.NewJobAsync(op, sourceId, new
        {
            targetType = "ContainerImage",
            containerRegistry = registry.Host,
            containerNamespace = "team",
            containerRepository = "web",
            containerTag = "v1",
            entrypoint = new[] { "/usr/bin/app" },
            env = new[] { "MODE=prod" },
            exposedPorts = new[] { "8080" },
        });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(180));
        Assert.True(job["status"]!.GetValue<string>() == "Finished", job.ToJsonString());
        string digest = job["replicationJobRuns"]![0]!["container"]!["manifestDigest"]!.GetValue<string>();

        string image = $"docker://{registry.Host}/team/web:v1";
        JsonNode inspect = JsonNode.Parse(Run("skopeo", "inspect", "--tls-verify=false", "--creds", "smc:push-secret", image))!;
        Assert.Equal(digest, inspect["Digest"]!.GetValue<string>());
        Assert.Equal("linux", inspect["Os"]!.GetValue<string>());
        JsonNode imageConfig = JsonNode.Parse(Run("skopeo", "inspect", "--config", "--tls-verify=false", "--creds", "smc:push-secret", image))!;
        Assert.Equal("/usr/bin/app", imageConfig["config"]!["Entrypoint"]![0]!.GetValue<string>());
        Assert.NotNull(imageConfig["config"]!["ExposedPorts"]!["8080/tcp"]);
        JsonNode tags = JsonNode.Parse(Run("skopeo", "list-tags", "--tls-verify=false", "--creds", "smc:push-secret", $"docker://{registry.Host}/team/web"))!;
        Assert.Equal(["v1", "v1-r0"], tags["Tags"]!.AsArray().Select(t => t!.GetValue<string>()).Order(StringComparer.Ordinal));

        string copy = fx.Box.File("push-copy");
        Run("skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", "--src-creds", "smc:push-secret", image, $"dir:{copy}");
        string layer = Path.Combine(copy, inspect["Layers"]![0]!.GetValue<string>()["sha256:".Length..]);
        string unpacked = fx.Box.File("push-unpacked");
        Directory.CreateDirectory(unpacked);
        Run("tar", "--numeric-owner", "-xzpf", layer, "-C", unpacked);
        Assert.Equal(Hash(Path.Combine(root, "usr/bin/app")), Hash(Path.Combine(unpacked, "usr/bin/app")));
        Assert.Equal(File.GetUnixFileMode(Path.Combine(root, "usr/bin/app")), File.GetUnixFileMode(Path.Combine(unpacked, "usr/bin/app")));
        Assert.Equal("app", new FileInfo(Path.Combine(unpacked, "usr/bin/run")).LinkTarget);
        Assert.Equal("1234 2345", Run("stat", "-c", "%u %g", Path.Combine(unpacked, "etc/hostname")).Trim());
        Assert.DoesNotContain(control.Process.Lines, l => l.Contains("push-secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ContainerJob_WrongRegistryPassword_EndsInErrorWithTheRegistrysCode()
    {
        await using Smc.Registry.Tests.DockerRegistry registry = await Smc.Registry.Tests.DockerRegistry.StartAsync(("smc", "push-secret"));
        using Azurite azurite = await Azurite.StartAsync();
        using ControlPlane control = await ControlPlane.StartAsync(azurite.ConnectionString, settings: new Dictionary<string, string>
        {
            ["SMC_REGISTRY__INSECURE"] = registry.Host,
            ["SMC_REGISTRY__USERNAME"] = "smc",
            ["SMC_REGISTRY__PASSWORD"] = "not-the-password",
        });
        string root = fx.Box.File("refused-root");
        Directory.CreateDirectory(root);
        await File.WriteAllTextAsync(Path.Combine(root, "hello"), "hello\n");
        ApiClient op = control.Operator();
        var (_, code) = await Flows.NewTokenAsync(op);
        var (sourceId, config) = Flows.RegisterAgentWithRoot(control, fx.Box, code, root, SampleDisks.Gpt(fx.Box, "refused-src.img"));
        string jobId = await Flows.NewJobAsync(op, sourceId, new { targetType = "ContainerImage", containerRegistry = registry.Host, containerNamespace = "team", containerRepository = "web", containerTag = "v1" });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "Finished" or "InError", TimeSpan.FromSeconds(180));
        Assert.Equal("InError", job["status"]!.GetValue<string>());
        Assert.Equal("Registry.UNAUTHORIZED", job["statusInfo"]!["errorCode"]!.GetValue<string>());
        Assert.Contains("SMC_REGISTRY__PASSWORD", job["statusInfo"]!["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", job.ToJsonString(), StringComparison.Ordinal);
    }

    private static string Hash(string path)
    {
        using FileStream f = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(f));
    }

    private static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {stderr}");
        return stdout;
    }
}
