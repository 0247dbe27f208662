using System.Globalization;

namespace AiAssistant.AppHost.Hosting;

/// <summary>
/// The dashboard on plain http at 127.0.0.1 without a login (no developer certificate is needed or made). Given as
/// command-line configuration, which Aspire reads while it creates the builder, and only where the environment does not
/// say otherwise, so a real deployment's settings win.
/// </summary>
public static class LocalDashboard
{
    public const int DefaultPort = 18888;

    /// <summary><paramref name="args"/> with the local dashboard's settings added; the dashboard's URL.</summary>
    public static (string[] Args, string Url) Arguments(string[] args)
    {
        var port = DefaultPort;
        var given = Array.IndexOf(args, "--dashboard-port");
        if (given >= 0 && given + 1 < args.Length &&
            (!int.TryParse(args[given + 1], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65533))
            throw new ArgumentException($"--dashboard-port must be a port from 1 to 65533, not '{args[given + 1]}'.");
        var defaults = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{port + 1}",
            ["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://127.0.0.1:{port + 2}",
            ["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true",
            ["ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true",
        };
        var added = defaults.Where(d => string.IsNullOrEmpty(Environment.GetEnvironmentVariable(d.Key)))
            .Select(d => $"--{d.Key}={d.Value}");
        var url = (Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is { Length: > 0 } urls ? urls : defaults["ASPNETCORE_URLS"]).Split(';')[0];
        return ([.. added, .. args], url);
    }
}
