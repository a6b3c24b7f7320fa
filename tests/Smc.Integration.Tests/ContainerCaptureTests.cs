using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Smc.Integration.Tests.Infrastructure;
using Smc.Testing;
using static Smc.Testing.OciLayers;

namespace Smc.Integration.Tests;

/// <summary>
/// ContainerImage jobs end to end (issue 6) with real processes: the agent captures the source's root tree file by file
/// into one tar (a whole tree, or an incremental layer), sends it through the same chunk/seal/upload pipeline, the
/// control plane's image of the round is that tar, and with a registry (Debian's docker-registry) it is pushed as OCI.
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

    /// <summary>
    /// Issue 6's acceptance: a sample root tree (files, directories, symlink, hard link, executable, xattr, a 100 MiB file,
    /// an excluded path, a volatile one) pushed as round 0 while the registry is killed mid-upload; after changes, round 1
    /// is one more layer with only what changed and whiteouts. skopeo (an independent client) reads the config and copies
    /// each tag to a directory, and its layers unpacked in order give: {tag}-r0 = the tree before, {tag} = the tree after.
    /// A third round with maxNumberOfImageToKeep 2 deletes round 0's image from the registry, not the layer under the rest.
    /// </summary>
    [Fact]
    public async Task ContainerJob_Rounds_EachTagUnpacksToItsRoundsTree_ThroughARegistryCrashMidPush_RetentionDeletesTheOldest()
    {
        await using DockerRegistry registry = await DockerRegistry.StartAsync(("smc", "push-secret"));
        using Azurite azurite = await Azurite.StartAsync();
        using ControlPlane control = await ControlPlane.StartAsync(azurite.ConnectionString, settings: new Dictionary<string, string>
        {
            ["SMC_REGISTRY__INSECURE"] = registry.Host,
            ["SMC_REGISTRY__USERNAME"] = "smc",
            ["SMC_REGISTRY__PASSWORD"] = "push-secret",
            ["SMC_REGISTRY__CHUNKMIB"] = "1",
        });
        string root = fx.Box.File("push-root");
        foreach (string dir in new[] { "etc", "usr/bin", "srv/old", "var/cache", "tmp" })
        {
            Directory.CreateDirectory(Path.Combine(root, dir));
        }

        await File.WriteAllTextAsync(Path.Combine(root, "etc/hostname"), "web-02\n");
        await File.WriteAllTextAsync(Path.Combine(root, "usr/bin/app"), "#!/bin/sh\necho hi\n");
        File.SetUnixFileMode(Path.Combine(root, "usr/bin/app"), (UnixFileMode)0b111_101_101);
        File.CreateSymbolicLink(Path.Combine(root, "usr/bin/run"), "app");
        byte[] big = new byte[100 << 20];
        new Random(17).NextBytes(big);
        await File.WriteAllBytesAsync(Path.Combine(root, "srv/big.bin"), big);
        Run("ln", Path.Combine(root, "srv/big.bin"), Path.Combine(root, "srv/big-link.bin"));
        await File.WriteAllTextAsync(Path.Combine(root, "srv/old/a.log"), "a");
        await File.WriteAllTextAsync(Path.Combine(root, "srv/rename-me"), "moved later");
        await File.WriteAllTextAsync(Path.Combine(root, "var/cache/junk"), "excluded");
        await File.WriteAllTextAsync(Path.Combine(root, "tmp/scratch"), "volatile");
        Run("chown", "1234:2345", Path.Combine(root, "etc/hostname"));
        Run("setfattr", "-n", "user.smc.role", "-v", "frontend", Path.Combine(root, "etc/hostname"));
        List<string> before = OciLayers.Describe(root, "var/cache", "tmp/scratch");

        ApiClient op = control.Operator();
        var (_, code) = await Flows.NewTokenAsync(op);
        var (sourceId, config) = Flows.RegisterAgentWithRoot(control, fx.Box, code, root, SampleDisks.Gpt(fx.Box, "push-src.img"));
        string jobId = await Flows.NewJobAsync(op, sourceId, new
        {
            targetType = "ContainerImage",
            runOnce = false,
            syncInterval = "P1D",
            maxNumberOfImageToKeep = 2,
            containerRegistry = registry.Host,
            containerNamespace = "team",
            containerRepository = "web",
            containerTag = "v1",
            entrypoint = new[] { "/usr/bin/app" },
            env = new[] { "MODE=prod" },
            exposedPorts = new[] { "8080" },
            excludePaths = new[] { "/var/cache" },
            tags = new Dictionary<string, string> { ["team"] = "web", ["env"] = "prod" },
        });
        using ChildProcess agent = Agent.Start("run", "--config", config);
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);

        // Round 0's 100 MiB layer goes up in 1 MiB chunks: kill the registry once 8 MiB of it are stored.
        var clock = Stopwatch.StartNew();
        while (registry.UploadingBytes() < 8 << 20)
        {
            JsonNode now = (await op.GetAsync($"/api/v1/replication-jobs/{jobId}")).Json;
            Assert.True(now["status"]!.GetValue<string>() is not ("Waiting" or "InError" or "Finished"), $"the push ended before the registry was killed: {now.ToJsonString()}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(180), "no upload reached the registry");
            await Task.Delay(50);
        }

        await registry.CrashAndRestartAsync();
        JsonNode job = await WaitForRoundAsync(op, jobId, 0);
        JsonNode first = job["replicationJobRuns"]!.AsArray().Single(r => r!["round"]!.GetValue<int>() == 0)!;
        Assert.Single(first["container"]!["layers"]!.AsArray());

        string image = $"docker://{registry.Host}/team/web";
        JsonNode inspect = JsonNode.Parse(Run("skopeo", "inspect", "--tls-verify=false", "--creds", "smc:push-secret", image + ":v1"))!;
        Assert.Equal(first["container"]!["manifestDigest"]!.GetValue<string>(), inspect["Digest"]!.GetValue<string>());
        Assert.Equal("linux", inspect["Os"]!.GetValue<string>());
        Assert.Equal(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "amd64", inspect["Architecture"]!.GetValue<string>());
        JsonNode imageConfig = JsonNode.Parse(Run("skopeo", "inspect", "--config", "--tls-verify=false", "--creds", "smc:push-secret", image + ":v1"))!;
        Assert.Equal("/usr/bin/app", imageConfig["config"]!["Entrypoint"]![0]!.GetValue<string>());
        Assert.Equal("MODE=prod", imageConfig["config"]!["Env"]![0]!.GetValue<string>());
        Assert.NotNull(imageConfig["config"]!["ExposedPorts"]!["8080/tcp"]);
        Assert.Equal("prod", imageConfig["config"]!["Labels"]!["env"]!.GetValue<string>()); // the job's tags, as labels
        Assert.Equal("web", imageConfig["config"]!["Labels"]!["team"]!.GetValue<string>());
        string round0 = Unpack(image + ":v1", "push-r0-then");
        Assert.Equal(before, OciLayers.Describe(round0));
        Assert.Equal("frontend", Run("getfattr", "--only-values", "-n", "user.smc.role", Path.Combine(round0, "etc/hostname")));
        Assert.False(Directory.Exists(Path.Combine(round0, "var/cache")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(round0, "tmp")));

        // Between rounds: rewrite, append, delete a symlink and a directory, rename, create.
        await File.WriteAllTextAsync(Path.Combine(root, "etc/hostname"), "web-03\n");
        await File.AppendAllTextAsync(Path.Combine(root, "usr/bin/app"), "echo again\n");
        File.Delete(Path.Combine(root, "usr/bin/run"));
        Directory.Delete(Path.Combine(root, "srv/old"), recursive: true);
        File.Move(Path.Combine(root, "srv/rename-me"), Path.Combine(root, "srv/renamed"));
        await File.WriteAllTextAsync(Path.Combine(root, "srv/new.txt"), "new");
        List<string> after = OciLayers.Describe(root, "var/cache", "tmp/scratch");

        // The agent loses its listing of round 0: it gets the one the control plane rebuilt from the layer, and sends only the changes.
        string listing = Path.Combine(Path.GetDirectoryName(config)!, "state", $"{jobId}-r0.listing.json");
        Assert.True(File.Exists(listing), listing);
        File.Delete(listing);

        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        job = await WaitForRoundAsync(op, jobId, 1);
        JsonNode second = job["replicationJobRuns"]!.AsArray().Single(r => r!["round"]!.GetValue<int>() == 1)!;
        Assert.Equal(0, second["layerBase"]!.GetValue<int>());
        Assert.Equal(2, second["container"]!["layers"]!.AsArray().Count);
        Assert.True(second["container"]!["layerBytes"]!.GetValue<long>() < 64 << 10, $"round 1's layer is {second["container"]!["layerBytes"]} bytes: the unchanged 100 MiB file is in it");
        Assert.True(second["uploadedBytes"]!.GetValue<long>() < 1 << 20, $"round 1 uploaded {second["uploadedBytes"]} bytes");
        Assert.Contains(agent.Lines, l => l.Contains("against round 0", StringComparison.Ordinal));
        Assert.Contains(agent.Lines, l => l.Contains("listing of round 0 is not kept here", StringComparison.Ordinal));

        JsonNode tags = JsonNode.Parse(Run("skopeo", "list-tags", "--tls-verify=false", "--creds", "smc:push-secret", image))!;
        Assert.Equal(["v1", "v1-r0", "v1-r1"], tags["Tags"]!.AsArray().Select(t => t!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(after, OciLayers.Describe(Unpack(image + ":v1", "push-latest")));
        Assert.Equal(before, OciLayers.Describe(Unpack(image + ":v1-r0", "push-r0-now")));

        // Round 2 with maxNumberOfImageToKeep 2: round 0's image leaves the registry; the newest still stands on its layer.
        await File.WriteAllTextAsync(Path.Combine(root, "srv/new.txt"), "newer");
        List<string> third = OciLayers.Describe(root, "var/cache", "tmp/scratch");
        (await op.PostAsync($"/api/v1/replication-jobs/{jobId}/start")).Expect(HttpStatusCode.Accepted);
        job = await WaitForRoundAsync(op, jobId, 2);
        Assert.NotNull(job["replicationJobRuns"]!.AsArray().Single(r => r!["round"]!.GetValue<int>() == 0)!["container"]!["deletedAt"]);
        tags = JsonNode.Parse(Run("skopeo", "list-tags", "--tls-verify=false", "--creds", "smc:push-secret", image))!;
        Assert.Equal(["v1", "v1-r1", "v1-r2"], tags["Tags"]!.AsArray().Select(t => t!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Equal(third, OciLayers.Describe(Unpack(image + ":v1", "push-third")));
        Assert.Equal(after, OciLayers.Describe(Unpack(image + ":v1-r1", "push-r1-now")));
        Assert.DoesNotContain(control.Process.Lines, l => l.Contains("push-secret", StringComparison.Ordinal));
    }

    /// <summary>
    /// Alibaba Container Registry's temporary login: the control plane has an access key and no registry login, the
    /// registry is known as an Enterprise Edition one, so the push asks GetAuthorizationToken (the emulator checks the
    /// signature and the instance) and logs in with what it answers — the only login docker-registry accepts.
    /// </summary>
    [Fact]
    public async Task ContainerJob_ToAlibabaContainerRegistry_PushesWithATemporaryLogin()
    {
        var cloud = new Smc.Alibaba.Emulator.EmulatorState();
        cloud.Accounts["LTAI5tTestKeyForSmcAcr"] = "acr-test-secret";
        (Microsoft.AspNetCore.Builder.WebApplication emulator, Uri emulatorUrl) = await Smc.Alibaba.Emulator.AlibabaEmulator.StartAsync(cloud);
        await using (emulator)
        {
            await using DockerRegistry registry = await DockerRegistry.StartAsync((cloud.AcrUsername, cloud.AcrPassword));
            using Azurite azurite = await Azurite.StartAsync();
            using ControlPlane control = await ControlPlane.StartAsync(azurite.ConnectionString, settings: new Dictionary<string, string>
            {
                ["SMC_REGISTRY__INSECURE"] = registry.Host,
                ["SMC_ALIBABA__ACCESSKEYID"] = "LTAI5tTestKeyForSmcAcr",
                ["SMC_ALIBABA__ACCESSKEYSECRET"] = "acr-test-secret",
                ["SMC_ALIBABA__CRENDPOINT"] = emulatorUrl.ToString(),
                ["SMC_ALIBABA__ACRREGISTRIES"] = $"{registry.Host}=enterprise:cn-hangzhou:{cloud.AcrInstanceId}",
            });
            string root = fx.Box.File("acr-root");
            Directory.CreateDirectory(Path.Combine(root, "etc"));
            await File.WriteAllTextAsync(Path.Combine(root, "etc/hostname"), "acr-01\n");
            await File.WriteAllTextAsync(Path.Combine(root, "etc/skip"), "excluded");
            ApiClient op = control.Operator();
            var (_, code) = await Flows.NewTokenAsync(op);

            // The one-shot command with the job's container fields as flags (docs/api.md), reading the --root tree.
            string config = fx.Box.File("acr-agent.json");
            var (exit, stdout, stderr) = Agent.Run("migrate", "--server", control.Url, "--code", code, "--config", config, "--disk", SampleDisks.Gpt(fx.Box, "acr-src.img"),
                "--root", root, "--target-type", "ContainerImage", "--container-registry", registry.Host, "--container-namespace", "team", "--container-repository", "acr",
                "--container-tag", "v1", "--entrypoint", "/bin/sh", "--entrypoint", "-c", "--exclude-path", "/etc/skip");
            Assert.True(exit == 0, $"exit {exit}: {stdout}\n{stderr}");
            Assert.Contains($"pushed {registry.Host}/team/acr:v1-r0 (sha256:", stdout, StringComparison.Ordinal);
            Assert.True(cloud.Calls.GetValueOrDefault("GetAuthorizationToken") >= 1);
            string copy = fx.Box.File("acr-copy");
            Run("skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", "--src-creds", $"{cloud.AcrUsername}:{cloud.AcrPassword}", $"docker://{registry.Host}/team/acr:v1", $"dir:{copy}");
            JsonNode manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(copy, "manifest.json")))!;
            string tree = fx.Box.File("acr-tree");
            Directory.CreateDirectory(tree);
            OciLayers.Apply(Path.Combine(copy, manifest["layers"]![0]!["digest"]!.GetValue<string>()["sha256:".Length..]), tree);
            Assert.Equal("acr-01\n", File.ReadAllText(Path.Combine(tree, "etc/hostname")));
            Assert.False(File.Exists(Path.Combine(tree, "etc/skip")));
            JsonNode imageConfig = JsonNode.Parse(Run("skopeo", "inspect", "--config", "--tls-verify=false", "--creds", $"{cloud.AcrUsername}:{cloud.AcrPassword}", $"docker://{registry.Host}/team/acr:v1"))!;
            Assert.Equal(["/bin/sh", "-c"], imageConfig["config"]!["Entrypoint"]!.AsArray().Select(a => a!.GetValue<string>()));
            Assert.DoesNotContain(control.Process.Lines, l => l.Contains(cloud.AcrPassword, StringComparison.Ordinal) || l.Contains("acr-test-secret", StringComparison.Ordinal));
        }
    }

    private static async Task<JsonNode> WaitForRoundAsync(ApiClient op, string jobId, int round)
    {
        // Pushed, and the push activity over (its retention included): the job waits for its next round.
        JsonNode job = await op.WaitForAsync($"/api/v1/replication-jobs/{jobId}", j => j["status"]!.GetValue<string>() is "InError" or "Finished"
            || (j["status"]!.GetValue<string>() == "Waiting" && j["replicationJobRuns"]!.AsArray().Any(r => r!["round"]!.GetValue<int>() == round && r["container"] is not null)), TimeSpan.FromSeconds(240));
        Assert.True(job["status"]!.GetValue<string>() is not ("InError" or "Finished"), job.ToJsonString());
        return job;
    }

    /// <summary>skopeo copies the image to a directory; its layers, unpacked in order with whiteouts applied, make the tree.</summary>
    private string Unpack(string image, string name)
    {
        string copy = fx.Box.File(name + "-oci"), tree = fx.Box.File(name);
        Directory.CreateDirectory(tree);
        Run("skopeo", "--insecure-policy", "copy", "--src-tls-verify=false", "--src-creds", "smc:push-secret", image, $"dir:{copy}");
        JsonNode manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(copy, "manifest.json")))!;
        foreach (JsonNode? layer in manifest["layers"]!.AsArray())
        {
            OciLayers.Apply(Path.Combine(copy, layer!["digest"]!.GetValue<string>()["sha256:".Length..]), tree);
        }

        return tree;
    }

    [Fact]
    public async Task ContainerJob_WrongRegistryPassword_EndsInErrorWithTheRegistrysCode()
    {
        await using DockerRegistry registry = await DockerRegistry.StartAsync(("smc", "push-secret"));
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
}
