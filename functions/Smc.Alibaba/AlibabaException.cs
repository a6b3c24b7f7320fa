namespace Smc.Alibaba;

/// <summary>An error answer of an Alibaba API (<c>Code</c>, <c>Message</c>, <c>RequestId</c>), classified once, here.</summary>
public sealed class AlibabaException : Exception
{
    public AlibabaException(int status, string code, string message, string? requestId, TimeSpan? retryAfter = null, Exception? inner = null)
        : base($"{code}: {message}" + (requestId is null ? "" : $" (RequestId {requestId})"), inner)
    {
        Status = status;
        Code = code;
        RequestId = requestId;
        RetryAfter = retryAfter;
        Kind = Classify(status, code, retryAfter);
    }

    public AlibabaException()
        : this(0, "Unknown", "Unknown error", null)
    {
    }

    public AlibabaException(string message)
        : this(0, "Unknown", message, null)
    {
    }

    public AlibabaException(string message, Exception inner)
        : this(0, "Unknown", message, null, null, inner)
    {
    }

    /// <summary>HTTP status; 0 when no answer came (network).</summary>
    public int Status { get; }

    public string Code { get; }

    public string? RequestId { get; }

    public TimeSpan? RetryAfter { get; }

    public AlibabaErrorKind Kind { get; }

    /// <summary>The one classifier of this boundary (docs/alibaba-api.md §3.2–3.4).</summary>
    public static AlibabaErrorKind Classify(int status, string code, TimeSpan? retryAfter)
    {
        if (retryAfter is not null || code.StartsWith("Throttling", StringComparison.Ordinal))
        {
            return AlibabaErrorKind.Throttled;
        }

        if (status == 0 || status >= 500 || code is "InternalError" or "UnknownError" or "ServiceUnavailable")
        {
            return AlibabaErrorKind.Transient;
        }

        return AlibabaErrorKind.UserError;
    }
}
