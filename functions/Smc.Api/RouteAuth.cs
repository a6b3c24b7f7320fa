namespace Smc.Api;

/// <summary>Who may call a route. Every route has exactly one; only the OpenAPI document is public.</summary>
public enum RouteAuth
{
    /// <summary>The operator key in <c>x-functions-key</c>.</summary>
    Operator,

    /// <summary>A source's agent credential as bearer token.</summary>
    Agent,

    /// <summary>An activation code, as bearer token or <c>?code=</c> (registration and agent installation).</summary>
    ActivationCode,

    /// <summary>Anyone: only the API's own description (<c>/api/v1/openapi.json</c>), which holds no data.</summary>
    Public,
}
