using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Smc.Integration.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Smc.Integration.Tests;

/// <summary>
/// Will it boot, on real parts: a Debian 12 system made by debootstrap (linux-image-amd64, systemd-sysv, GRUB for BIOS
/// or UEFI on a GPT disk, a data file system at /srv; Tools/debian-boot-image.sh, cached by its hash) migrated through a control plane that boots every
/// Image round's image in qemu (TCG, no KVM here). Healthy, every pre-flight and readiness check passes and the image
/// boots both with its own kernel (systemd reports its root UUID and local-fs.target) and from its own sectors (BIOS →
/// GRUB → login prompt on the serial console). With an initramfs that lacks virtio, the check fails and names the
/// drivers, and the image's readiness and boot test say so — the guest's initramfs gives up on its root. With fstab by
/// device names, systemd waits for /dev/sda3 and stops in emergency mode; a UEFI system boots through OVMF from its
/// ESP's removable-media path. A TCG guest takes a core, so this class starts first (LongestFirst) beside the others,
/// not after them; its verdicts have no deadline tighter than half a minute of console silence.
/// </summary>
public sealed class BootTestTests(BootTestTests.Fixture fx) : IClassFixture<BootTestTests.Fixture>
{
    private const string RootUuid = "5e0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

    [Fact]
    public async Task ADebianSystem_PassesEveryCheck_AndItsImageBoots_WithItsKernelAndFromItsOwnSectors()
    {
        string disk = fx.Debian("virtio");
        var (exit, stdout, stderr) = Agent.Run("check", "--disk", disk, "--json");
        Assert.True(exit == 0, $"check exited {exit}: {stdout}{stderr}");
        JsonNode report = JsonNode.Parse(stdout)!;
        Assert.True(report["status"]!.GetValue<string>() == "pass", stdout);

        JsonNode job = await fx.MigrateAsync(disk, force: false);
        string imageId = job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();
        JsonNode image = (await fx.Control.Operator().GetAsync($"/api/v1/images/{imageId}")).Expect(HttpStatusCode.OK).Json;
        JsonNode readiness = image["bootReadiness"]!;
        Assert.True(readiness["status"]!.GetValue<string>() == "pass", readiness.ToJsonString());

        JsonNode test = image["bootTest"]!;
        Assert.True(test["status"]!.GetValue<string>() == "Booted", test.ToJsonString());
        JsonArray attempts = test["attempts"]!.AsArray();
        Assert.Equal(["kernel", "firmware"], attempts.Select(a => a!["method"]!.GetValue<string>()));
        Assert.All(attempts, a => Assert.Equal("Booted", a!["status"]!.GetValue<string>()));
        Assert.Contains(RootUuid, attempts[0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("local-fs.target active", attempts[0]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("smc-boot login:", attempts[1]!["consoleTail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("Booted", job["replicationJobRuns"]![0]!["bootTest"]?["status"]?.GetValue<string>()
            ?? (await fx.Control.Operator().GetAsync($"/api/v1/replication-jobs/{job["jobId"]!.GetValue<string>()}")).Json["replicationJobRuns"]![0]!["bootTest"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnInitramfsWithoutVirtio_FailsTheCheck_AndTheImagesReadinessAndBootTestSayWhy()
    {
        string disk = fx.Debian("no-virtio");
        var (exit, stdout, _) = Agent.Run("check", "--disk", disk, "--json");
        Assert.Equal(9, exit);
        JsonNode virtio = JsonNode.Parse(stdout)!["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "drivers.virtio")!;
        Assert.Equal("fail", virtio["status"]!.GetValue<string>());
        Assert.Contains("virtio_blk", virtio["message"]!.GetValue<string>(), StringComparison.Ordinal);

        JsonNode job = await fx.MigrateAsync(disk, force: true);
        Assert.Equal("Finished", job["status"]!.GetValue<string>()); // a failed boot warns, the migration still ends with its image
        string imageId = job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();
        JsonNode image = (await fx.Control.Operator().GetAsync($"/api/v1/images/{imageId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("fail", image["bootReadiness"]!["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "drivers.virtio")!["status"]!.GetValue<string>());

        JsonNode test = image["bootTest"]!;
        Assert.True(test["status"]!.GetValue<string>() == "Failed", test.ToJsonString());
        JsonNode kernel = Assert.Single(test["attempts"]!.AsArray())!;
        Assert.Equal("Failed", kernel["status"]!.GetValue<string>());
        string tail = kernel["consoleTail"]!.GetValue<string>();
        Assert.Contains("Gave up waiting for root", kernel["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(tail.Contains($"UUID={RootUuid} does not exist", StringComparison.Ordinal), kernel.ToJsonString()); // initramfs-tools: "ALERT! UUID=… does not exist"

        // The warning is on the overview (the job finished): one row, with what the attempt found.
        JsonNode warning = (await fx.Control.Operator().GetAsync("/api/v1/overview")).Json["bootWarnings"]!.AsArray()
            .Single(w => w!["jobId"]!.GetValue<string>() == job["jobId"]!.GetValue<string>())!;
        Assert.Equal("BootTest.Failed", warning["errorCode"]!.GetValue<string>());
        Assert.Contains("Gave up waiting for root", warning["errorMessage"]!.GetValue<string>(), StringComparison.Ordinal);

        // And on the monitoring page, in Chromium: the job's boot badge with what the console showed, the overview's card.
        int warnings = (await fx.Control.Operator().GetAsync("/api/v1/overview")).Json["bootWarnings"]!.AsArray().Count;
        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await Browser.LaunchAsync(playwright);
        IPage page = await browser.NewPageAsync();
        await Browser.LogInAsync(page, fx.Control);
        ILocator badge = page.Locator($"tr[data-job='{job["jobId"]!.GetValue<string>()}'] .boot.Failed");
        await Expect(badge).ToHaveTextAsync("boot: Failed", new() { Timeout = 30_000 });
        await Expect(badge).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("Gave up waiting for root"));
        await Expect(page.Locator("[data-card=boot-warnings] b")).ToHaveTextAsync($"{warnings}");
    }

    [Fact]
    public async Task WithoutABootLoader_TheCheckFails_AndItsKernelBootsButItsOwnSectorsDoNot()
    {
        string disk = fx.Debian("no-loader");
        var (exit, stdout, _) = Agent.Run("check", "--disk", disk, "--json");
        Assert.Equal(9, exit);
        JsonNode loader = JsonNode.Parse(stdout)!["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "boot.loader")!;
        Assert.Equal("fail", loader["status"]!.GetValue<string>());

        JsonNode job = await fx.MigrateAsync(disk, force: true);
        string imageId = job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();
        JsonNode image = (await fx.Control.Operator().GetAsync($"/api/v1/images/{imageId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("fail", image["bootReadiness"]!["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "boot.loader")!["status"]!.GetValue<string>());

        // The system itself is whole (its kernel boots it); the firmware finds nothing to run in the first sector.
        JsonNode test = image["bootTest"]!;
        Assert.True(test["status"]!.GetValue<string>() == "Failed", test.ToJsonString());
        JsonArray attempts = test["attempts"]!.AsArray();
        Assert.Equal(("kernel", "Booted"), (attempts[0]!["method"]!.GetValue<string>(), attempts[0]!["status"]!.GetValue<string>()));
        Assert.Equal(("firmware", "Failed"), (attempts[1]!["method"]!.GetValue<string>(), attempts[1]!["status"]!.GetValue<string>()));
        Assert.Contains("Booting from Hard Disk", attempts[1]!["message"]!.GetValue<string>(), StringComparison.Ordinal); // SeaBIOS's own last line
        Assert.DoesNotContain("login:", attempts[1]!["consoleTail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FstabByDeviceNames_FailsTheCheck_AndItsImageStopsInEmergencyMode_WaitingForTheDevice()
    {
        string disk = fx.Debian("fstab-devname");
        var (exit, stdout, _) = Agent.Run("check", "--disk", disk, "--json");
        Assert.Equal(9, exit);
        JsonNode fstab = JsonNode.Parse(stdout)!["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "fstab.devices")!;
        Assert.Equal("fail", fstab["status"]!.GetValue<string>());
        Assert.Contains("/srv is /dev/sda3", fstab["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("/ is /dev/sda2", fstab["message"]!.GetValue<string>(), StringComparison.Ordinal);

        JsonNode job = await fx.MigrateAsync(disk, force: true);
        string imageId = job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();
        JsonNode image = (await fx.Control.Operator().GetAsync($"/api/v1/images/{imageId}")).Expect(HttpStatusCode.OK).Json;
        Assert.Equal("fail", image["bootReadiness"]!["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "fstab.devices")!["status"]!.GetValue<string>());

        // On a virtio disk /dev/sda3 never appears: systemd gives up on it and the boot stops in emergency mode. The
        // guest's own console says so, and the attempt names the device.
        JsonNode test = image["bootTest"]!;
        Assert.True(test["status"]!.GetValue<string>() == "Failed", test.ToJsonString());
        JsonNode kernel = Assert.Single(test["attempts"]!.AsArray())!;
        string message = kernel["message"]!.GetValue<string>();
        Assert.True(message.Contains("emergency mode", StringComparison.Ordinal) && message.Contains("dev-sda3.device", StringComparison.Ordinal), kernel.ToJsonString());
        Assert.Contains("Timed out waiting for device dev-sda3.device", kernel["consoleTail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AUefiSystem_PassesItsChecks_AndItsImageBoots_WithItsKernelAndThroughOvmf()
    {
        string disk = fx.Debian("uefi");
        var (exit, stdout, stderr) = Agent.Run("check", "--disk", disk, "--json");
        Assert.True(exit == 0, $"check exited {exit}: {stdout}{stderr}");
        JsonNode loader = JsonNode.Parse(stdout)!["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "boot.loader")!;
        Assert.Equal("pass", loader["status"]!.GetValue<string>());
        Assert.Contains("/EFI/BOOT/BOOTX64.EFI", loader["message"]!.GetValue<string>(), StringComparison.Ordinal); // read from the ESP's FAT

        JsonNode job = await fx.MigrateAsync(disk, force: false);
        string imageId = job["replicationJobRuns"]![0]!["imageId"]!.GetValue<string>();
        JsonNode image = (await fx.Control.Operator().GetAsync($"/api/v1/images/{imageId}")).Expect(HttpStatusCode.OK).Json;
        JsonNode readiness = image["bootReadiness"]!;
        Assert.True(readiness["status"]!.GetValue<string>() == "pass" && readiness["bootMode"]!.GetValue<string>() == "UEFI", readiness.ToJsonString());

        // OVMF with empty UEFI variables, as a new instance's firmware: it starts the ESP's removable-media path.
        JsonNode test = image["bootTest"]!;
        Assert.True(test["status"]!.GetValue<string>() == "Booted", test.ToJsonString());
        JsonArray attempts = test["attempts"]!.AsArray();
        Assert.Equal(["kernel", "firmware"], attempts.Select(a => a!["method"]!.GetValue<string>()));
        Assert.All(attempts, a => Assert.Equal("Booted", a!["status"]!.GetValue<string>()));
        Assert.StartsWith("UEFI → boot loader", attempts[1]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("smc-boot login:", attempts[1]!["consoleTail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void CheckFix_OnTheMountedTree_RebuildsItsInitramfsWithVirtio_UnderChroot()
    {
        string disk = fx.Debian("no-virtio");
        // This kernel makes no partition devices for loop devices: each file system is attached at its offset — the root
        // (partition 2) and the data file system fstab mounts at /srv (partition 3), mounted there as on the source.
        string device = Tool.Run("losetup", ["-f", "--show", "-o", $"{4096 * 512}", disk]).Stdout.Trim();
        string mount = fx.Box.File("fix.mnt");
        Directory.CreateDirectory(mount);
        try
        {
            Tool.Run("mount", [device, mount]);
            try
            {
                string data = Tool.Run("losetup", ["-f", "--show", "-o", $"{(4096 + (1400 * 2048)) * 512L}", disk]).Stdout.Trim();
                try
                {
                    Tool.Run("mount", [data, Path.Combine(mount, "srv")]);
                    try
                    {
                        CheckAndFix(mount);
                    }
                    finally
                    {
                        Tool.Run("umount", [Path.Combine(mount, "srv")]);
                    }
                }
                finally
                {
                    Tool.Run("losetup", ["-d", data]);
                }
            }
            finally
            {
                Tool.Run("umount", [mount]);
            }
        }
        finally
        {
            Tool.Run("losetup", ["-d", device]);
        }

        static void CheckAndFix(string mount)
        {
            var (exit, stdout, stderr) = Agent.Run("check", "--root", mount, "--json");
            Assert.True(exit == 9, $"exit {exit}: {stdout}{stderr}");

            (exit, stdout, stderr) = Agent.Run("check", "--root", mount, "--json", "--fix");

            Assert.True(exit == 0, $"exit {exit}: {stdout}{stderr}");
            JsonNode report = JsonNode.Parse(stdout)!;
            Assert.Equal("pass", report["checks"]!.AsArray().Single(c => c!["id"]!.GetValue<string>() == "drivers.virtio")!["status"]!.GetValue<string>());
            JsonNode fix = Assert.Single(report["fixes"]!.AsArray())!;
            Assert.True(fix["applied"]!.GetValue<bool>(), fix.ToJsonString());
            Assert.Contains("update-initramfs -u -k", fix["message"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Single(Directory.GetFiles(Path.Combine(mount, "etc", "initramfs-tools"), "modules.smc-backup-*"));
            Assert.Contains("virtio_blk", File.ReadAllText(Path.Combine(mount, "etc", "initramfs-tools", "modules")), StringComparison.Ordinal);
        }
    }

    /// <summary>A control plane whose hosts boot each image (SMC_VERIFY__QEMU), its own Azurite, and the Debian disks.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        private Azurite? _azurite;

        internal Sandbox Box { get; } = new();

        internal ControlPlane Control { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            _azurite = await Azurite.StartAsync();
            Control = await ControlPlane.StartAsync(_azurite.ConnectionString, settings: new Dictionary<string, string>
            {
                ["SMC_VERIFY__QEMU"] = "qemu-system-x86_64",
                ["SMC_VERIFY__WORKDIRECTORY"] = Box.Root,
            });
        }

        /// <summary>The Debian disk of a variant (debian-boot-image.sh names them), built by the tools on first use and cached across runs.</summary>
        internal string Debian(string variant)
        {
            string image = Box.File($"debian-{variant}.img");
            var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(Repo.Root, "tests", "Smc.Integration.Tests", "Tools", "debian-boot-image.sh"));
            start.ArgumentList.Add(image);
            start.ArgumentList.Add(variant);
            using Process process = Process.Start(start)!;
            Task<string> errors = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("debian-boot-image.sh did not finish in 10 minutes.");
            }

            Assert.True(process.ExitCode == 0, $"debian-boot-image.sh exited {process.ExitCode}: {output}{errors.Result}");
            return image;
        }

        internal async Task<JsonNode> MigrateAsync(string disk, bool force)
        {
            var (_, code) = await Flows.NewTokenAsync(Control.Operator());
            List<string> args = ["migrate", "--server", Control.Url, "--code", code, "--disk", disk, "--config", Box.File($"agent-{Guid.NewGuid():N}.json"), "--json"];
            if (force)
            {
                args.Add("--force");
            }

            // The control plane boots the image under TCG before the job finishes; beside the other classes on 2 cores
            // that pushed a migration past the default 3-minute hang guard once in ~8 runs. A bound, not a measurement.
            var (exit, stdout, stderr) = Agent.RunWithin(TimeSpan.FromMinutes(8), [.. args]);
            Assert.True(exit == 0, $"migrate exited {exit}\n{stdout}\n{stderr}");
            return JsonNode.Parse(stdout)!;
        }

        public Task DisposeAsync()
        {
            Control?.Dispose();
            _azurite?.Dispose();
            Box.Dispose();
            return Task.CompletedTask;
        }
    }
}
