namespace Smc.Core.Errors;

/// <summary>The three kinds of failure every boundary classifies into (style.md).</summary>
public enum ErrorKind
{
    /// <summary>Retry with backoff.</summary>
    Transient,

    /// <summary>Fail the step, compensate, report a code.</summary>
    Permanent,

    /// <summary>The caller must change the request.</summary>
    User,
}
