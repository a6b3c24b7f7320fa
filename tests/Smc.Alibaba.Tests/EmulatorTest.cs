using Microsoft.AspNetCore.Builder;
using Smc.Alibaba.Emulator;

namespace Smc.Alibaba.Tests;

/// <summary>A test class against its own emulator on loopback, with one account (<c>LTAI-test</c> / <c>test-secret</c>).</summary>
public abstract class EmulatorTest : IAsyncLifetime
{
    private WebApplication _emulator = null!;

    protected EmulatorState State { get; } = new();

    protected Uri Url { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        State.Accounts["LTAI-test"] = "test-secret";
        (_emulator, Url) = await AlibabaEmulator.StartAsync(State);
    }

    public async Task DisposeAsync() => await _emulator.DisposeAsync();

    /// <summary>Client options for the emulator's ECS and OSS, with short retry delays.</summary>
    internal AlibabaOptions Options(string secret = "test-secret", string signature = "V3") =>
        new() { AccessKeyId = "LTAI-test", AccessKeySecret = secret, EcsEndpoint = Url, OssEndpoint = Url, Signature = signature, RetryDelay = TimeSpan.FromMilliseconds(10) };
}
