using Smc.Integration.Tests.Infrastructure;
using Smc.Testing;

namespace Smc.Integration.Tests;

/// <summary>smc-agent's documented exit codes on bad input; nothing half-written.</summary>
public sealed class AgentCliTests : IDisposable
{
    private readonly Sandbox _box = new();

    [Fact]
    public void Inspect_CorruptGpt_Exit3WithCode()
    {
        string img = SampleDisks.Gpt(_box);
        // Wreck both GPT headers (primary at LBA 1, backup at the last LBA); the protective MBR stays.
        using (var f = new FileStream(img, FileMode.Open, FileAccess.Write))
        {
            f.Position = 512 + 16;
            f.Write(new byte[8]);
            f.Position = f.Length - 512 + 16;
            f.Write(new byte[8]);
        }

        var (exit, stdout, stderr) = Agent.Run("inspect", "--disk", img);
        Assert.Equal(3, exit);
        Assert.Contains("InvalidPartitionTable.Gpt", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_UnreachableServer_Exit5AndNoConfig()
    {
        string config = _box.File("agent.json");
        var (exit, _, stderr) = Agent.Run("register", "--server", $"http://127.0.0.1:{FreePort.Next()}", "--code", "at-aaaaaaaaaaaaaaaa.x", "--disk", SampleDisks.Gpt(_box, "u.img"), "--config", config);
        Assert.Equal(5, exit);
        Assert.Contains("Can't reach the control plane", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(config));
    }

    [Fact]
    public void Run_NotRegistered_Exit6()
    {
        var (exit, _, stderr) = Agent.Run("run", "--config", _box.File("missing.json"));
        Assert.Equal(6, exit);
        Assert.Contains("register", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownCommand_Exit2()
    {
        Assert.Equal(2, Agent.Run("teleport").ExitCode);
        Assert.Equal(2, Agent.Run("register", "--server", "http://x").ExitCode);
    }

    public void Dispose() => _box.Dispose();
}
