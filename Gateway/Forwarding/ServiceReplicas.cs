using AiAssistant.ServiceDefaults;

namespace AiAssistant.Gateway.Forwarding;

/// <summary>
/// The addresses of one service, from <c>services:{service}:http:0</c>, <c>…:1</c>, … (Aspire's configuration keys).
/// Several addresses are replicas of the same service, taken in turn.
/// </summary>
public sealed class ServiceReplicas
{
    private readonly string[] _addresses;
    private int _turn = -1;

    public ServiceReplicas(string name, IEnumerable<string> addresses)
    {
        Name = name;
        _addresses = [.. addresses];
    }

    public string Name { get; }

    /// <summary>Base addresses without a trailing slash, such as <c>http://127.0.0.1:5101</c>.</summary>
    public IReadOnlyList<string> Addresses => _addresses;

    /// <summary>The replica for the next request (round-robin, lock-free), or null when none is configured.</summary>
    public string? NextAddress()
    {
        var addresses = _addresses;
        return addresses.Length switch
        {
            0 => null,
            1 => addresses[0],
            _ => addresses[(uint)Interlocked.Increment(ref _turn) % (uint)addresses.Length],
        };
    }

    public static ServiceReplicas FromConfiguration(IConfiguration configuration, string service)
    {
        var addresses = new List<string>();
        for (var i = 0; configuration[$"services:{service}:http:{i}"] is not null; i++)
        {
            var uri = configuration.ServiceUri(service, "http", i);
            // "localhost:5101" parses as an absolute URI with scheme "localhost": refuse it here, not on every request.
            if ((uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Query.Length > 0 || uri.Fragment.Length > 0)
                throw new InvalidOperationException(
                    $"services:{service}:http:{i} is \"{uri.OriginalString}\"; it must be an http(s) address such as http://127.0.0.1:5101.");
            addresses.Add(uri.GetLeftPart(UriPartial.Path).TrimEnd('/'));
        }
        return new ServiceReplicas(service, addresses);
    }
}
