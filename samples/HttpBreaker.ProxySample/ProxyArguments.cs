using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace HttpBreaker.ProxySample;

/// <summary>
/// The command line of the proxy sample. Arguments it does not recognise are passed to the application's
/// configuration, so <c>--HttpBreaker:Clients:external:FailureThreshold=5</c> overrides <c>appsettings.json</c>.
/// </summary>
internal sealed class ProxyArguments
{
    public const string Usage = """
        Usage: dotnet run --project samples/HttpBreaker.ProxySample [-- OPTIONS]

          --upstream URL   send /api/v1/external to URL/data instead of starting the built-in flaky upstream
          --port N         listen on 127.0.0.1 port N (default 0: an ephemeral port, printed at start)
          --demo           run the whole cycle against the built-in upstream, print each step, and exit
                           0 when every step behaved as expected, 1 otherwise
                           (2, like any run, for invalid arguments or configuration)
          --help           show this text

        Any other argument is configuration, such as --HttpBreaker:Clients:external:BreakDuration=00:00:05.
        """;

    public Uri? Upstream { get; private set; }

    public int? Port { get; private set; }

    public bool Demo { get; private set; }

    public bool ShowHelp { get; private set; }

    /// <summary>The arguments left for the application's configuration.</summary>
    public List<string> ConfigurationArgs { get; } = [];

    public static bool TryParse(string[] args, [NotNullWhen(true)] out ProxyArguments? parsed, [NotNullWhen(false)] out string? error)
    {
        parsed = new ProxyArguments();
        error = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--help" or "-h":
                    parsed.ShowHelp = true;
                    break;
                case "--demo":
                    parsed.Demo = true;
                    break;
                case "--upstream":
                    if (i + 1 >= args.Length || !Uri.TryCreate(args[++i], UriKind.Absolute, out Uri? upstream) ||
                        (upstream.Scheme != Uri.UriSchemeHttp && upstream.Scheme != Uri.UriSchemeHttps))
                    {
                        error = "--upstream needs an absolute http or https URL, such as --upstream http://127.0.0.1:8080/.";
                        break;
                    }

                    parsed.Upstream = upstream;
                    break;
                case "--port":
                    if (i + 1 >= args.Length || !int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
                    {
                        error = "--port needs a port number from 0 to 65535, such as --port 5080; 0 picks an ephemeral port.";
                        break;
                    }

                    parsed.Port = port;
                    break;
                default:
                    parsed.ConfigurationArgs.Add(args[i]);
                    break;
            }

            if (error is not null)
            {
                parsed = null;
                return false;
            }
        }

        if (parsed.Demo && parsed.Upstream is not null)
        {
            error = "--demo runs against the built-in upstream, whose failures it controls, so it cannot be combined with --upstream.";
            parsed = null;
            return false;
        }

        return true;
    }

    /// <summary>Returns the arguments for <see cref="ProxyApp.Build"/>, with <c>--port</c> as its configuration key.</summary>
    public string[] ToConfigurationArgs() =>
        Port is { } port
            ? [.. ConfigurationArgs, string.Create(CultureInfo.InvariantCulture, $"--{ProxyApp.PortKey}={port}")]
            : [.. ConfigurationArgs];
}
