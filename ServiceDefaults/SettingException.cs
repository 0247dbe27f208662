namespace AiAssistant.ServiceDefaults;

/// <summary>
/// A setting the service cannot start without is missing or malformed. Its message names the setting (and its
/// environment variable) and says what it must be; it must never contain the value.
/// </summary>
public sealed class SettingException(string message) : InvalidOperationException(message)
{
    /// <summary>
    /// A service that stops on a <see cref="SettingException"/> — while it is being built or started — prints one line,
    /// <c>{service}: {message}</c>, on stderr and exits with code 78 (EX_CONFIG), instead of a stack trace.
    /// </summary>
    internal static void ExitCleanlyOnMissingSettings()
    {
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (Find(e.ExceptionObject as Exception) is not { } missing) return;
            Console.Error.WriteLine($"{AppDomain.CurrentDomain.FriendlyName}: {missing.Message}");
            Environment.Exit(78);
        };
    }

    private static SettingException? Find(Exception? e) => e switch
    {
        null => null,
        SettingException s => s,
        AggregateException a => a.InnerExceptions.Select(Find).FirstOrDefault(x => x is not null),
        _ => Find(e.InnerException),
    };
}
