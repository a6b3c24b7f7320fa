using System.Collections.Concurrent;

namespace Smc.Alibaba.Emulator;

/// <summary>What the emulated cloud knows: accounts, used nonces, and faults queued by a test.</summary>
public sealed class EmulatorState
{
    /// <summary>AccessKeyId → AccessKeySecret.</summary>
    public ConcurrentDictionary<string, string> Accounts { get; } = new(StringComparer.Ordinal);

    /// <summary>Nonces seen within the timestamp window (a reuse is refused with <c>SignatureNonceUsed</c>).</summary>
    public ConcurrentDictionary<string, DateTimeOffset> Nonces { get; } = new(StringComparer.Ordinal);

    /// <summary>Faults for the next requests, in order: <c>Throttling</c> (400 + x-acs-retry-after) or <c>InternalError</c> (500).</summary>
    public ConcurrentQueue<string> Faults { get; } = new();

    /// <summary>Requests that passed authentication, by action (a test counts retries with it).</summary>
    public ConcurrentDictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);

    /// <summary>How far a request's timestamp may be from the emulator's clock.</summary>
    public TimeSpan AllowedSkew { get; set; } = TimeSpan.FromMinutes(15);

    public TimeProvider Clock { get; set; } = TimeProvider.System;
}
