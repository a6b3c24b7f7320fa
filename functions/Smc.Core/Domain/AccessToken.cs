namespace Smc.Core.Domain;

/// <summary>
/// An activation code's record (SMC's access token): how many sources it may register and until when.
/// The code itself is never stored; only its hash, in the credential index.
/// </summary>
public sealed class AccessToken : Ports.IDueRecord
{
    public required string AccessTokenId { get; init; }

    public required string Name { get; set; }

    /// <summary>How many source servers the code may register (1–1000).</summary>
    public int Count { get; init; }

    /// <summary>How many registrations the code has made.</summary>
    public int UsedCount { get; set; }

    public int TimeToLiveInDays { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    public bool Disabled { get; set; }

    /// <summary><c>Active</c>, <c>Disabled</c>, <c>Expired</c> or <c>UsedUp</c>, as of <see cref="StatusAt"/>'s time.</summary>
    public string Status { get; set; } = AccessTokenStatus.Active;

    /// <summary>
    /// When the recorded status changes by itself: the expiry of a code that is neither disabled nor expired (every other
    /// change is written with its status), kept beside the record (<see cref="Ports.IDueRecord"/>) so the status sweep
    /// reads only codes that have expired, not every code. Not part of the record's JSON.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset? DueAt => Status is AccessTokenStatus.Disabled or AccessTokenStatus.Expired ? null : ExpiresAt;

    public string StatusAt(DateTimeOffset now) =>
        Disabled ? AccessTokenStatus.Disabled
        : now >= ExpiresAt ? AccessTokenStatus.Expired
        : UsedCount >= Count ? AccessTokenStatus.UsedUp
        : AccessTokenStatus.Active;
}
