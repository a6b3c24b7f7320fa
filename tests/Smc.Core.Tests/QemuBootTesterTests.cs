using Smc.Boot;
using Smc.Core.Domain;
using Smc.Core.Images;
using Smc.Core.Options;

namespace Smc.Core.Tests;

/// <summary>The boot tester's own verdicts that need no guest: a qemu that can't be started tests nothing (NotRun, not Failed).</summary>
public sealed class QemuBootTesterTests : IDisposable
{
    private readonly TempDir _dir = new("qemu");

    [Fact]
    public async Task AQemuThatCantBeStarted_IsNotRun_NamingTheSettingToFix()
    {
        var tester = new QemuBootTester(Microsoft.Extensions.Options.Options.Create(new VerifyOptions { Qemu = Path.Combine(_dir.Path, "no-such-qemu") }));
        var target = new BootTarget("vmlinuz", new byte[16], null, null, ["root=UUID=x", "ro"], null, SerialConsole: false);

        BootAttempt attempt = await tester.BootKernelAsync(_dir.File("disk.raw"), target, _dir.Path, CancellationToken.None);

        Assert.Equal(BootTest.NotRun, attempt.Status);
        Assert.Contains("SMC_VERIFY__QEMU", attempt.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}
