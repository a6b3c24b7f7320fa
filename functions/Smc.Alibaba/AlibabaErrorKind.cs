namespace Smc.Alibaba;

/// <summary>What a caller does about an Alibaba error.</summary>
public enum AlibabaErrorKind
{
    /// <summary>Flow control (<c>Throttling*</c>, or any error with <c>x-acs-retry-after</c>): the request was not executed; retry after the delay.</summary>
    Throttled,

    /// <summary>A server-side or network failure: retried only for idempotent calls or calls with a <c>ClientToken</c>.</summary>
    Transient,

    /// <summary>The request or the account must change (credentials, parameters, quota, RAM role): no retry.</summary>
    UserError,
}
