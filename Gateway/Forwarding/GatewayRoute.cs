namespace AiAssistant.Gateway.Forwarding;

/// <summary>
/// One row of the route table: requests whose path starts with <see cref="Prefix"/> (whole segments) go to
/// <see cref="Service"/>. Each forwarded endpoint carries its row as metadata, so middleware can ask
/// <c>HttpContext.GetGatewayRoute()</c> which service a request is bound for.
/// </summary>
public sealed record GatewayRoute(string Prefix, string Service);
