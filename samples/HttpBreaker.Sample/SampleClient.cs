using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HttpBreaker.Sample;

/// <summary>
/// Creation of a run's named client, with invalid breaker options reported as errors in the sample's arguments.
/// </summary>
internal static class SampleClient
{
    /// <summary>
    /// Creates the client, or prints why its breaker options are invalid and returns <see langword="null"/>.
    /// </summary>
    /// <remarks>Creating the client creates its circuit, and that is when the library validates the options.</remarks>
    public static HttpClient? TryCreate(IServiceProvider provider, string clientName)
    {
        try
        {
            return provider.GetRequiredService<IHttpClientFactory>().CreateClient(clientName);
        }
        catch (OptionsValidationException exception)
        {
            foreach (string failure in exception.Failures)
            {
                Console.Error.WriteLine($"error: {failure}");
            }

            Console.Error.WriteLine("Change --threshold or --break to a value in that range. See --help.");
            return null;
        }
    }
}
