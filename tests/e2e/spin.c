/* Spins without making system calls, so only an interrupt from the
 * sentry can stop it. */
int main(void)
{
	for (volatile unsigned long i = 0;; i++)
		;
}
