using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace AiAssistant.AppHost.Hosting;

/// <summary>
/// The AppHost's options, from its command line only, so that a stray PORT or DATA variable changes nothing
/// (<c>--port 8080 --chat-replicas 2 --data .data</c>,
/// and <c>--dashboard-port 18888</c> read by <see cref="LocalDashboard"/>; the tests add <c>--servers-only true</c> and <c>--durable false</c>).
/// </summary>
public sealed record AppHostOptions(int GatewayPort, int ChatReplicas, string DataFolder, bool ServersOnly, bool Durable)
{
    public static AppHostOptions From(string[] args, string appHostDirectory)
    {
        var configuration = new ConfigurationBuilder().AddCommandLine(args).Build();
        var data = configuration["data"] is { Length: > 0 } given ? given : Path.Combine(appHostDirectory, "..", ".data");
        var options = new AppHostOptions(
            Int(configuration, "port", 8080, 0, 65535),
            Int(configuration, "chat-replicas", 2, 1, 16),
            Path.GetFullPath(data),
            Bool(configuration, "servers-only", false),
            Bool(configuration, "durable", true));
        Directory.CreateDirectory(options.DataFolder);
        return options;
    }

    private static int Int(IConfiguration configuration, string key, int fallback, int min, int max)
    {
        var text = configuration[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new ArgumentException($"--{key} must be a whole number from {min} to {max}, not '{text}'.");
        return value;
    }

    private static bool Bool(IConfiguration configuration, string key, bool fallback) =>
        configuration[key] is { Length: > 0 } text
            ? bool.TryParse(text, out var value) ? value : throw new ArgumentException($"--{key} must be true or false, not '{text}'.")
            : fallback;
}
