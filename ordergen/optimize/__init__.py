"""Exact whole-share optimisation: pure functions over numpy arrays and Decimals.

The problem, for one portfolio with market value MV and model securities i:
minimise sum_i |MV*t_i - u_i*p_i| over whole u_i >= 0, with each u_i*p_i inside its
band [MV*(t_i-l_i), MV*(t_i+h_i)] and sum_i u_i*p_i <= MV (cash after trading >= 0).
"""
